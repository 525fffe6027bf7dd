import { Queue } from 'bullmq';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AppConfig } from '../../src/config/app-config';
import { jobIdFor, QueueName, queuePrefix, type DeliveryJobData } from '../../src/delivery/delivery.constants';
import { closeRedis, connectRedis, type RedisClient } from '../../src/redis/redis-connection';

const JOB_POLL_MS = 20;

/** Reads jobs straight from Redis with this run's prefix, the way a worker would see them. */
export class QueueInspector {
  private readonly queues: Record<QueueName, Queue<DeliveryJobData>>;
  private readonly connection: RedisClient;

  constructor(config: AppConfig) {
    this.connection = connectRedis(config.redis);
    const queue = (name: QueueName) =>
      new Queue<DeliveryJobData>(name, { connection: this.connection, prefix: queuePrefix(config.redis.prefix, name) });
    this.queues = { [QueueName.Email]: queue(QueueName.Email), [QueueName.Sms]: queue(QueueName.Sms) };
  }

  /** The record's job. The outbox relay adds it just after the start answered, so this waits up to `timeoutMs` for it. */
  async job(queue: QueueName, verificationId: string, timeoutMs = 5000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = await this.queues[queue].getJob(jobIdFor(verificationId));
      if (job || Date.now() > deadline) return job;
      await sleep(JOB_POLL_MS);
    }
  }

  async close(): Promise<void> {
    await Promise.all(Object.values(this.queues).map((q) => q.close()));
    await closeRedis(this.connection);
  }
}
