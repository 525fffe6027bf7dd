import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, ModuleRef } from '@nestjs/core';
import { getQueueToken, WorkerHost } from '@nestjs/bullmq';
import { isDependencyUnavailable } from '../../common/dependency-errors';
import { AppConfig } from '../../config/app-config';
import type { Job, Queue } from 'bullmq';
import { SENT_UNRECORDED, type DeliveryJobData, type JobName, type QueueName } from '../delivery.constants';
import { DeliveryAttemptsRepository } from './delivery-attempts.repository';
import { JobProcessor } from './delivery.processor';
import { jobHandlerProblems } from './job-handlers.check';
import { QueueLoopGuard } from './queue-loop.guard';

export type WorkerState = 'starting' | 'running' | 'stopping';

/**
 * Starts the queue consumers once the application is wired and the handler check passed, and stops them first on
 * shutdown: `Worker.close()` stops fetching and waits for in-flight jobs, which still need the database, so this runs
 * in `beforeApplicationShutdown`, before TypeORM closes its pool.
 */
@Injectable()
export class WorkerRunner implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(WorkerRunner.name);
  private processors: JobProcessor[] = [];
  private readonly guards = new Map<QueueName, QueueLoopGuard>();
  state: WorkerState = 'starting';

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly moduleRef: ModuleRef,
    private readonly config: AppConfig,
    private readonly attempts: DeliveryAttemptsRepository,
  ) {}

  onApplicationBootstrap(): void {
    const hosts = this.discovery
      .getProviders()
      .map((wrapper) => wrapper.instance as unknown)
      .filter((i): i is WorkerHost => i instanceof WorkerHost);
    const foreign = hosts.filter((host) => !(host instanceof JobProcessor)).map((host) => host.constructor.name);
    if (foreign.length > 0)
      throw new Error(`Worker boot check failed: processors without declared handlers: ${foreign.join(', ')}`);
    this.processors = hosts as JobProcessor[];
    const problems = jobHandlerProblems(
      this.config.worker.queues as QueueName[],
      this.processors.map((p) => ({ queue: p.queue, jobNames: Object.keys(p.handlers) as JobName[] })),
    );
    if (problems.length > 0) throw new Error(`Worker boot check failed: ${problems.join('; ')}`);

    for (const processor of this.processors) {
      this.guards.set(
        processor.queue,
        new QueueLoopGuard(processor.worker, this.logger, `Queue ${processor.queue} (Redis)`),
      );
      processor.worker.on('failed', (job) => void this.onFailed(job));
      // The queue shares the worker's connection: its errors are the ones the loop guard already reports.
      this.moduleRef.get<Queue>(getQueueToken(processor.queue), { strict: false }).on('error', () => undefined);
      processor.worker
        .run()
        .catch((err: unknown) => this.logger.error(`Worker for ${processor.queue} stopped: ${(err as Error).message}`));
      this.logger.log(`Consuming queue ${processor.queue} (concurrency ${processor.worker.concurrency})`);
    }
    this.state = 'running';
  }

  /**
   * BullMQ emits `failed` for every failed attempt; once the job is in the failed set for good, the record must say
   * `failed` too, whatever the path (DeliveryService records its own failures; this catches stalls and early errors).
   */
  private async onFailed(job: Job<DeliveryJobData> | undefined): Promise<void> {
    if (!job) return;
    try {
      // Left for the reconciler: a message that went out but could not be recorded (it marks it sent), and a job whose
      // attempts ran out while Postgres or Redis was down (it runs it again; the message was never refused).
      if (SENT_UNRECORDED.test(job.failedReason) || isDependencyUnavailable({ message: job.failedReason })) return;
      if ((await job.getState()) === 'failed') await this.attempts.markFailed(job.data.verificationId);
    } catch (err) {
      this.logger.error(`Could not mark ${job.data.verificationId} failed: ${(err as Error).message}`);
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.state = 'stopping';
    for (const guard of this.guards.values()) guard.stop();
    this.logger.log('Stopping: no new jobs; waiting for in-flight jobs to finish');
    await Promise.all(this.processors.map((p) => p.worker.close()));
  }

  get queues(): QueueName[] {
    return this.processors.map((p) => p.queue);
  }

  /** The queues whose consumer loop keeps failing, with the last error: the worker is then not healthy. */
  failingQueues(): Partial<Record<QueueName, string>> {
    const failing: Partial<Record<QueueName, string>> = {};
    for (const [queue, guard] of this.guards) if (guard.failure !== undefined) failing[queue] = guard.failure;
    return failing;
  }
}
