import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { metrics } from '../observability/metrics';
import { HealthService } from '../health/health.service';
import { QueueName } from './delivery.constants';

const CHECK_INTERVAL_MS = 1000;

export interface BacklogState {
  /** Age of the oldest message still waiting to be sent, per channel (null: none waiting). */
  oldestUndeliveredMs: Record<QueueName, number | null>;
  /** Channels whose new starts are refused until the backlog drains. */
  shedding: QueueName[];
}

/**
 * Watches how far delivery is behind, once a second per API process: the age of the oldest undelivered, unexpired
 * message per channel (one indexed lookup per connection on the verifications_undelivered index), which covers every
 * stage (outbox, queue, worker, provider). While it is over DELIVERY_SHED_BACKLOG_AGE_MS a channel sheds new starts;
 * it accepts again once the age fell under half of that (hysteresis), so a 200 stays a promise the workers can keep
 * within the code's lifetime.
 */
@Injectable()
export class DeliveryBacklogMonitor implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DeliveryBacklogMonitor.name);
  private readonly state: BacklogState = { oldestUndeliveredMs: { email: null, sms: null }, shedding: [] };
  private timer?: NodeJS.Timeout;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly health: HealthService,
  ) {}

  onApplicationBootstrap(): void {
    // Measured even when shedding is off (DELIVERY_SHED_BACKLOG_AGE_MS=0): the health report shows the backlog.
    this.health.addDetail('delivery', () => this.snapshot());
    this.timer = setInterval(() => void this.check().catch(() => undefined), CHECK_INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Whether new starts on this channel are refused for now. */
  shedding(queue: QueueName): boolean {
    return this.state.shedding.includes(queue);
  }

  snapshot(): BacklogState {
    return { oldestUndeliveredMs: { ...this.state.oldestUndeliveredMs }, shedding: [...this.state.shedding] };
  }

  /** One measurement (a database outage keeps the last state: starts then fail on their own writes). */
  async check(): Promise<void> {
    const now = this.clock.now();
    const rows: Array<{ queue: QueueName; oldest: Date | null }> = await this.dataSource.query(
      `SELECT c.strategy AS queue,
              min((SELECT min(v.created_at) FROM verifications v
                    WHERE v.connection = c.name AND v.delivery_status = 'pending' AND v.consumed_at IS NULL
                      AND v.superseded_at IS NULL AND v.expires_at > $1)) AS oldest
         FROM connections c GROUP BY c.strategy`,
      [now],
    );
    const limit = this.config.delivery.shedBacklogAgeMs;
    for (const queue of Object.values(QueueName)) {
      const oldest = rows.find((r) => r.queue === queue)?.oldest;
      const age = oldest ? Math.max(0, now.getTime() - oldest.getTime()) : null;
      this.state.oldestUndeliveredMs[queue] = age;
      metrics()?.undeliveredOldestAge.set({ queue }, (age ?? 0) / 1000);
      const shedding = this.state.shedding.includes(queue);
      if (!shedding && limit > 0 && age !== null && age > limit) {
        this.state.shedding.push(queue);
        this.logger.warn(
          `Shedding new ${queue} starts: the oldest undelivered message is ${Math.round(age / 1000)} s old`,
        );
      } else if (shedding && (limit === 0 || age === null || age < limit / 2)) {
        this.state.shedding = this.state.shedding.filter((q) => q !== queue);
        this.logger.log(`Accepting ${queue} starts again: delivery caught up`);
      }
    }
  }
}
