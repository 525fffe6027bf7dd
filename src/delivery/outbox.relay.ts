import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { DeliveryQueue } from './delivery.queue';
import { OutboxRepository } from './outbox.repository';

/** Rows per claim-and-publish transaction. */
const BATCH_SIZE = 200;

/**
 * Transactional outbox relay, the only producer of delivery jobs. A start commits its record and outbox row, calls
 * `wake()` and answers; the relay then moves rows to the queues in batches: one claiming statement and one `addBulk`
 * per batch, however many starts arrived meanwhile, instead of an enqueue and an acknowledgement per start.
 * A timer also drains every OUTBOX_RELAY_INTERVAL_MS, for rows left by a replica that died or while Redis was down.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OutboxRelay.name);
  private timer?: NodeJS.Timeout;
  private draining?: Promise<void>;
  /** A wake-up arrived during a pass: its row may have committed after that pass's claim, so run once more. */
  private wokenWhileDraining = false;
  private stopped = false;

  constructor(
    private readonly outbox: OutboxRepository,
    private readonly queue: DeliveryQueue,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.wake(), this.config.delivery.outboxRelayIntervalMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.draining;
  }

  /** Called after a start commits. Never throws and never waits: the caller's 200 does not depend on Redis. */
  wake(): void {
    if (this.stopped) return;
    if (this.draining) {
      this.wokenWhileDraining = true;
      return;
    }
    this.draining = this.drain().finally(() => (this.draining = undefined));
  }

  /** Passes until the outbox is empty and nobody woke the relay meanwhile; stops at the first failed pass. */
  private async drain(): Promise<void> {
    for (;;) {
      this.wokenWhileDraining = false;
      let taken: number;
      try {
        taken = await this.relayOnce();
      } catch (err) {
        this.logger.warn(`Outbox relay pass failed, retrying in ${this.config.delivery.outboxRelayIntervalMs} ms: ${(err as Error).message}`);
        return;
      }
      if (this.stopped || (taken < BATCH_SIZE && !this.wokenWhileDraining)) return;
    }
  }

  /**
   * One batch: live rows are published, the others dropped. If publishing fails the batch stays in the outbox with its
   * relay_attempts counted, and the error propagates. Returns how many rows were taken.
   */
  async relayOnce(): Promise<number> {
    let pending: string[] = [];
    try {
      return await this.outbox.takeBatch(BATCH_SIZE, async (rows) => {
        const live = rows.filter((row) => row.live);
        pending = live.map((row) => row.verificationId);
        await this.queue.enqueueAll(live.map((row) => ({ queue: row.queue, data: row.payload })));
      });
    } catch (err) {
      await this.outbox.recordRelayFailure(pending).catch(() => undefined);
      throw err;
    }
  }
}
