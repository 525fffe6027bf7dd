import { Queue } from 'bullmq';
import { Client } from 'pg';
import type { AppConfig } from '../config/app-config';
import { closeRedis, connectRedis, type RedisClient } from '../redis/redis-connection';
import { jobIdFor, queuePrefix, type DeliveryJobData, type QueueName } from './delivery.constants';

export interface FailedDelivery {
  queue: QueueName;
  verificationId: string;
  attemptsMade: number;
  failedAt: Date;
  reason: string;
}

/**
 * The dead-letter view of delivery, for `npm run deliveries:retry`: failed jobs stay in BullMQ's failed set for 7 days
 * (FAILED_JOB_RETENTION_SECONDS). Retrying moves a job back to waiting with fresh attempts and its record from `failed`
 * back to `pending`; the worker still skips a record that expired, was superseded or consumed meanwhile.
 */
export class FailedDeliveries {
  private readonly queues = new Map<QueueName, Queue<DeliveryJobData>>();
  private readonly db: Client;
  private readonly redis: RedisClient;

  constructor(private readonly config: AppConfig) {
    this.db = new Client({ connectionString: config.databaseUrl });
    this.redis = connectRedis(config.redis, { lazyConnect: true });
  }

  async open(): Promise<this> {
    await this.db.connect();
    return this;
  }

  /** Failed jobs of `queue`, or only the one of `verificationId`. */
  async list(queue: QueueName, verificationId?: string, limit = 100): Promise<FailedDelivery[]> {
    const q = this.queue(queue);
    const jobs = verificationId ? [await q.getJob(jobIdFor(verificationId))] : await q.getFailed(0, limit - 1);
    const failed: FailedDelivery[] = [];
    for (const job of jobs) {
      if (!job || (await job.getState()) !== 'failed') continue;
      failed.push({
        queue,
        verificationId: job.data.verificationId,
        attemptsMade: job.attemptsMade,
        failedAt: new Date(job.finishedOn ?? 0),
        reason: job.failedReason,
      });
    }
    return failed;
  }

  async retry(delivery: FailedDelivery): Promise<void> {
    const job = await this.queue(delivery.queue).getJob(jobIdFor(delivery.verificationId));
    if (!job) return;
    await this.db.query(
      "UPDATE verifications SET delivery_status = 'pending' WHERE id = $1 AND delivery_status = 'failed'",
      [delivery.verificationId],
    );
    await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    await closeRedis(this.redis);
    await this.db.end();
  }

  private queue(name: QueueName): Queue<DeliveryJobData> {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue<DeliveryJobData>(name, {
        connection: this.redis,
        prefix: queuePrefix(this.config.redis.prefix, name),
      });
      this.queues.set(name, queue);
    }
    return queue;
  }
}
