import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { AppConfig } from '../config/app-config';
import { jobIdFor, JobName, QueueName, type DeliveryJobData } from './delivery.constants';

/**
 * Failed jobs are the dead-letter set (inspect/retry with `npm run deliveries:retry`). They are kept a week, long after
 * their code expired, then dropped so sealed secrets do not pile up in Redis forever.
 */
export const FAILED_JOB_RETENTION_SECONDS = 7 * 24 * 3600;

/** The only place that puts delivery jobs on a queue (called by the OutboxRelay). */
@Injectable()
export class DeliveryQueue {
  private readonly queues: Record<QueueName, Queue>;

  constructor(
    @InjectQueue(QueueName.Email) email: Queue,
    @InjectQueue(QueueName.Sms) sms: Queue,
    private readonly config: AppConfig,
  ) {
    this.queues = { [QueueName.Email]: email, [QueueName.Sms]: sms };
  }

  /**
   * Adds the jobs, one `addBulk` (a single Redis round trip) per queue, each under a deterministic id so that adding a
   * job again is a no-op while it is still on the queue. Rejects after ENQUEUE_TIMEOUT_MS rather than hang while Redis
   * is unreachable.
   */
  async enqueueAll(jobs: Array<{ queue: QueueName; data: DeliveryJobData }>): Promise<void> {
    const { maxAttempts, backoffMs, enqueueTimeoutMs } = this.config.delivery;
    const opts = (data: DeliveryJobData) => ({
      jobId: jobIdFor(data.verificationId),
      attempts: maxAttempts,
      backoff: { type: 'exponential', delay: backoffMs, jitter: 0.5 },
      removeOnComplete: true,
      removeOnFail: { age: FAILED_JOB_RETENTION_SECONDS },
    });
    const bulks = new Map<QueueName, Array<{ name: JobName; data: DeliveryJobData; opts: ReturnType<typeof opts> }>>();
    for (const { queue, data } of jobs) {
      // Refuse rather than skip: the caller's transaction must roll back and keep the row (e.g. a queue a newer version added).
      if (!Object.hasOwn(this.queues, queue)) throw new Error(`unknown delivery queue: ${String(queue)}`);
      const bulk = bulks.get(queue) ?? [];
      bulk.push({ name: JobName.DeliverVerification, data, opts: opts(data) });
      bulks.set(queue, bulk);
    }
    const adds = [...bulks].map(([queue, bulk]) => this.queues[queue].addBulk(bulk));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`enqueue timed out after ${enqueueTimeoutMs} ms`)), enqueueTimeoutMs);
    });
    try {
      await Promise.race([Promise.all(adds), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  queue(name: QueueName): Queue {
    return this.queues[name];
  }
}
