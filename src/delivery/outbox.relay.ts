import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { OutageLog } from '../common/outage-log';
import { AppConfig } from '../config/app-config';
import { metrics } from '../observability/metrics';
import { DeliveryQueue } from './delivery.queue';
import { QueueName } from './delivery.constants';
import { OutboxRepository } from './outbox.repository';

/** Rows per claim-and-publish transaction. */
const BATCH_SIZE = 200;
/**
 * After a pass that took several rows (the API is busy), the next one starts no sooner than this after it. A pass has
 * a fixed cost (a transaction, a claiming statement, an `addBulk`) that back-to-back passes of a few rows each paid
 * again and again (docs/decisions/005-relay-pass-spacing.md). A pass that took one row or none (light load) is
 * followed at once, so an idle service adds no delay.
 */
export const BUSY_PASS_INTERVAL_MS = 20;

/**
 * Transactional outbox relay, the only producer of delivery jobs. A start commits its record and outbox row, whose
 * trigger notifies the relays (OutboxListener calls `wake()`); a relay then moves rows to the queues in batches: one
 * claiming statement and one `addBulk` per batch, however many starts arrived meanwhile, instead of an enqueue and an
 * acknowledgement per start. A timer also drains every OUTBOX_RELAY_INTERVAL_MS, for rows left by a relay that died or
 * while Redis was down (docs/decisions/026-relay-as-a-process-role.md).
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly outage = new OutageLog(new Logger(OutboxRelay.name), 'Outbox relay (Postgres or Redis)');
  private timer?: NodeJS.Timeout;
  private draining?: Promise<void>;
  /** Set by every wake-up: a row may have committed after the running pass took its batch, so pass once more. */
  private woken = false;
  /** After a failed pass (Redis down, most likely) only the timer starts the next one, not every start. */
  private waitingForTimer = false;
  private stopped = false;
  /** No pass before this time (`performance.now()`, which a clock change cannot move): see BUSY_PASS_INTERVAL_MS. */
  private nextPassAt = 0;

  constructor(
    private readonly outbox: OutboxRepository,
    private readonly queue: DeliveryQueue,
    private readonly config: AppConfig,
  ) {
    metrics()?.onCollect(async () => {
      const m = metrics()!;
      const backlog = await this.outbox.backlog();
      for (const queue of Object.values(QueueName)) {
        const row = backlog.find((b) => b.queue === queue);
        m.outboxRows.set({ queue }, row?.rows ?? 0);
        m.outboxOldestAge.set({ queue }, row?.oldestSeconds ?? 0);
      }
    });
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.waitingForTimer = false;
      this.wake();
    }, this.config.delivery.outboxRelayIntervalMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.draining;
  }

  get failingSince(): number | undefined {
    return this.outage.downSince;
  }

  /** Called when outbox rows committed. Never throws and never waits. */
  wake(): void {
    if (this.stopped) return;
    this.woken = true;
    if (!this.waitingForTimer) this.draining ??= this.drain();
  }

  /**
   * Passes until the outbox is empty and nobody woke the relay meanwhile; stops at the first failed pass (the timer
   * wakes it again). The loop's last check and the reset of `draining` run without an await in between, so a wake-up
   * either is seen by the loop or starts a new drain: none is lost.
   */
  private async drain(): Promise<void> {
    try {
      while (this.woken && !this.stopped) {
        const wait = this.nextPassAt - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        this.woken = false;
        const startedAt = performance.now();
        const taken = await this.relayOnce();
        this.outage.recovered();
        if (taken === BATCH_SIZE) this.woken = true;
        this.nextPassAt = taken > 1 ? startedAt + BUSY_PASS_INTERVAL_MS : 0;
      }
    } catch (err) {
      this.waitingForTimer = true;
      this.outage.failed(err);
    } finally {
      this.draining = undefined;
    }
  }

  /**
   * One batch: live rows are published, the others dropped. If publishing fails the batch stays in the outbox with its
   * relay_attempts counted, and the error propagates. Returns how many rows were taken.
   */
  async relayOnce(): Promise<number> {
    let publishing: string[] = [];
    try {
      return await this.outbox.takeBatch(BATCH_SIZE, async (rows) => {
        const live = rows.filter((row) => row.live);
        publishing = live.map((row) => row.verificationId);
        await this.queue.enqueueAll(live.map((row) => ({ queue: row.queue, data: row.payload })));
      });
    } catch (err) {
      metrics()?.relayFailures.inc();
      await this.outbox.recordRelayFailure(publishing).catch(() => undefined);
      throw err;
    }
  }
}
