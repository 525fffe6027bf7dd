import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import { AppConfig } from '../config/app-config';
import { RedisConnections } from '../redis/redis.module';
import { metrics } from '../observability/metrics';
import { jobIdFor, JobName, QueueName, queuePrefix, type DeliveryJobData } from './delivery.constants';

/**
 * Failed jobs are the dead-letter set (inspect/retry with `npm run deliveries:retry`). They are kept a week, long after
 * their code expired, then dropped so sealed secrets do not pile up in Redis forever.
 */
export const FAILED_JOB_RETENTION_SECONDS = 7 * 24 * 3600;

/**
 * The only place that puts delivery jobs on a queue (called by the OutboxRelay). Its connections fail fast while Redis
 * is unreachable (no offline queue): the rows stay in the outbox and the relay tries again on its next pass.
 */
@Injectable()
export class DeliveryQueue implements OnApplicationShutdown {
  private readonly queues: Record<QueueName, Queue<DeliveryJobData>>;

  constructor(
    private readonly config: AppConfig,
    connections: RedisConnections,
  ) {
    // One connection for both queues (closed by RedisConnections after them).
    const connection = connections.open({ enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000 });
    const queue = (name: QueueName) => {
      const q = new Queue<DeliveryJobData>(name, { connection, prefix: queuePrefix(config.redis.prefix, name) });
      // Connection errors surface on the calls that fail; the relay reports outages (see OutboxRelay).
      q.on('error', () => undefined);
      return q;
    };
    this.queues = { [QueueName.Email]: queue(QueueName.Email), [QueueName.Sms]: queue(QueueName.Sms) };
    metrics()?.onCollect(() => this.collectDepths());
  }

  private async collectDepths(): Promise<void> {
    for (const [name, queue] of Object.entries(this.queues)) {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
      for (const [state, count] of Object.entries(counts)) metrics()!.queueJobs.set({ queue: name, state }, count);
    }
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
      // Refuse rather than skip: the caller's transaction must roll back and keep the row (e.g. a queue added later).
      if (!Object.hasOwn(this.queues, queue)) throw new Error(`unknown delivery queue: ${String(queue)}`);
      const bulk = bulks.get(queue) ?? [];
      bulk.push({ name: JobName.DeliverVerification, data, opts: opts(data) });
      bulks.set(queue, bulk);
    }
    const adds = [...bulks].map(([queue, bulk]) => this.queues[queue].addBulk(bulk));
    await withTimeout(Promise.all(adds), enqueueTimeoutMs, 'enqueue');
  }

  /** The state of each record's job: `live` (waiting, delayed or running), `failed`, or `missing` (none, or done). */
  async jobStates(queue: QueueName, verificationIds: string[]): Promise<JobState[]> {
    const q = this.queues[queue];
    const jobs = await withTimeout(
      Promise.all(verificationIds.map((id) => q.getJob(jobIdFor(id)))),
      this.config.delivery.enqueueTimeoutMs,
      'job lookup',
    );
    return jobs.map((job): JobState => {
      if (!job) return { state: 'missing' };
      if (job.finishedOn && job.failedReason) return { state: 'failed', reason: job.failedReason };
      return job.finishedOn ? { state: 'missing' } : { state: 'live' };
    });
  }

  /** Moves a record's failed job back to waiting with fresh attempts; false if it is not (or no longer) failed. */
  async retryFailed(queue: QueueName, verificationId: string): Promise<boolean> {
    const job = await this.queues[queue].getJob(jobIdFor(verificationId));
    if (!job || !(await job.isFailed())) return false;
    await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    return true;
  }

  queue(name: QueueName): Queue<DeliveryJobData> {
    return this.queues[name];
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(Object.values(this.queues).map((q) => q.close().catch(() => q.disconnect())));
  }
}

export type JobState = { state: 'live' | 'missing' } | { state: 'failed'; reason: string };

async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
