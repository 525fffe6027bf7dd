import { Queue } from 'bullmq';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AppConfig } from '../../src/config/app-config';
import { jobIdFor, QueueName, type DeliveryJobData } from '../../src/delivery/delivery.constants';

const JOB_POLL_MS = 20;

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
  }
}
