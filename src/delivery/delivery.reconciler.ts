import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Clock } from '../common/clock';
import { isDependencyUnavailable } from '../common/dependency-errors';
import { OutageLog } from '../common/outage-log';
import { AppConfig } from '../config/app-config';
import { VerificationSecrets } from '../verification/verification-secrets';
import { QueueName, SENT_UNRECORDED } from './delivery.constants';
import { DeliveryQueue } from './delivery.queue';
import { ReconciliationRepository, type Reissue, type UndeliveredRecord } from './reconciliation.repository';

/** Records looked at per statement; a pass loops until a batch comes back short. */
const BATCH = 500;

/**
 * Keeps the promise of a 200 when jobs go missing. Every DELIVERY_RECONCILE_INTERVAL_MS it:
 * - marks records whose code expired before any send `failed` (an `expired` attempt row and a log line each);
 * - looks up the job of every undelivered record older than DELIVERY_RECONCILE_AFTER_MS that has no outbox row: a job
 *   that is gone (a Redis without persistence restarted, a key evicted) is issued again with a fresh code through the
 *   outbox, and a job that failed without its outcome reaching the record settles it (`sent` when the provider had
 *   accepted the message, else `failed`).
 * Runs in the relay role; replicas may all run it, the statements are idempotent (ReconciliationRepository).
 */
@Injectable()
export class DeliveryReconciler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DeliveryReconciler.name);
  private readonly outage = new OutageLog(this.logger, 'Delivery reconciliation');
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly repository: ReconciliationRepository,
    private readonly queue: DeliveryQueue,
    private readonly secrets: VerificationSecrets,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.running ??= this.reconcile()
        .then(() => this.outage.recovered())
        .catch((err: unknown) => this.outage.failed(err))
        .finally(() => (this.running = undefined));
    }, this.config.delivery.reconcileIntervalMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  get failingSince(): number | undefined {
    return this.outage.downSince;
  }

  /** One pass; returns what it did (for tests and logs). */
  async reconcile(): Promise<{ expired: number; reissued: number; settled: number }> {
    const now = this.clock.now();
    let expired = 0;
    for (let batch = BATCH; batch === BATCH;) {
      const rows = await this.repository.expire(now, BATCH);
      for (const row of rows) this.logger.warn(`Delivery of ${row.id} (${row.queue}) expired before it was sent`);
      expired += rows.length;
      batch = rows.length;
    }
    const createdBefore = new Date(now.getTime() - this.config.delivery.reconcileAfterMs);
    const records = await this.repository.undeliveredWithoutOutbox(now, createdBefore, BATCH);
    let reissued = 0;
    let settled = 0;
    for (const queue of Object.values(QueueName)) {
      const mine = records.filter((r) => r.queue === queue);
      if (mine.length === 0) continue;
      const states = await this.queue.jobStates(
        queue,
        mine.map((r) => r.id),
      );
      const lost: UndeliveredRecord[] = [];
      for (const [i, record] of mine.entries()) {
        const state = states[i];
        if (state.state === 'missing') lost.push(record);
        else if (state.state === 'failed' && (await this.settle(record, state.reason, now))) settled++;
      }
      reissued += (await this.reissue(lost, now)).length;
    }
    return { expired, reissued, settled };
  }

  private async reissue(lost: UndeliveredRecord[], now: Date): Promise<string[]> {
    const items: Reissue[] = lost.map((r) => ({
      id: r.id,
      queue: r.queue,
      ...this.secrets.issue(r.id, r.codeLength, r.send),
    }));
    const ids = await this.repository.reissue(items, now);
    for (const id of ids) this.logger.warn(`Delivery job of ${id} was lost; issued again with a new code`);
    return ids;
  }

  /**
   * A failed job whose record still waits: sent but unrecorded (mark it sent), failed because Postgres or Redis was
   * unavailable (the message was never refused: run the job again, its code is still live), or refused for good
   * without the record saying so (mark it failed).
   */
  private async settle(record: UndeliveredRecord, reason: string, now: Date): Promise<boolean> {
    if (!SENT_UNRECORDED.test(reason) && isDependencyUnavailable({ message: reason })) {
      const retried = await this.queue.retryFailed(record.queue, record.id);
      if (retried)
        this.logger.warn(`Delivery job of ${record.id} failed while a dependency was down; running it again`);
      return retried;
    }
    const match = SENT_UNRECORDED.exec(reason);
    const sent = match ? { providerMessageId: match[1] === 'none' ? null : match[1] } : null;
    const changed = await this.repository.settleFailedJob(record.id, sent, now);
    if (changed) this.logger.warn(`Delivery of ${record.id} settled from its failed job: ${sent ? 'sent' : 'failed'}`);
    return changed;
  }
}
