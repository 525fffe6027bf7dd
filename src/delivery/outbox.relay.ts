import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { DeliveryQueue } from './delivery.queue';
import { OutboxRepository } from './outbox.repository';

const BATCH_SIZE = 100;

/**
 * Transactional-outbox relay. The request path enqueues right after commit and deletes the outbox row; anything left
 * behind (Redis down, process killed between commit and enqueue) is enqueued here once it is older than the grace period.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OutboxRelay.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;

  constructor(
    private readonly outbox: OutboxRepository,
    private readonly queue: DeliveryQueue,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.running ??= this.relayOnce()
        .catch((err: unknown) => this.logger.warn(`Outbox relay pass failed: ${(err as Error).message}`))
        .finally(() => (this.running = undefined));
    }, this.config.delivery.outboxRelayIntervalMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass; returns how many rows were handled (enqueued, or dropped because the record is no longer live). */
  async relayOnce(): Promise<number> {
    const grace = this.config.delivery.outboxRelayIntervalMs * 2;
    return this.outbox.relayBatch(grace, BATCH_SIZE, async (rows, manager) => {
      const done: string[] = [];
      const failed: string[] = [];
      for (const [index, row] of rows.entries()) {
        if (!row.live) {
          done.push(row.verificationId);
          continue;
        }
        try {
          await this.queue.enqueue(row.queue, row.payload);
          await this.outbox.markEnqueued(row.verificationId, manager);
        } catch {
          // Redis is most likely down: stop here rather than hold the row locks through a timeout per row.
          failed.push(...rows.slice(index).filter((r) => r.live).map((r) => r.verificationId));
          done.push(...rows.slice(index + 1).filter((r) => !r.live).map((r) => r.verificationId));
          break;
        }
      }
      await this.outbox.deleteRows(done, manager);
      await this.outbox.recordRelayFailure(failed, manager);
      if (failed.length > 0) this.logger.warn(`Outbox relay could not enqueue ${failed.length} job(s); will retry`);
    });
  }
}
