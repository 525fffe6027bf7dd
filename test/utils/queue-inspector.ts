import { Queue } from 'bullmq';
import type { AppConfig } from '../../src/config/app-config';
import { jobIdFor, QueueName, type DeliveryJobData } from '../../src/delivery/delivery.constants';

/** Reads jobs straight from Redis with this run's prefix, the way a worker would see them. */
export class QueueInspector {
  private readonly queues: Record<QueueName, Queue<DeliveryJobData>>;

  constructor(config: AppConfig) {
    const connection = { url: config.redis.url };
    this.queues = {
      [QueueName.Email]: new Queue<DeliveryJobData>(QueueName.Email, { connection, prefix: config.redis.prefix }),
      [QueueName.Sms]: new Queue<DeliveryJobData>(QueueName.Sms, { connection, prefix: config.redis.prefix }),
    };
  }

  async job(queue: QueueName, verificationId: string) {
    return this.queues[queue].getJob(jobIdFor(verificationId));
  }

  async close(): Promise<void> {
    await Promise.all(Object.values(this.queues).map((q) => q.close()));
  }
}
