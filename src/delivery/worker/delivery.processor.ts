import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, type Type } from '@nestjs/common';
import { UnrecoverableError, type Job } from 'bullmq';
import { runWithRequestId } from '../../observability/logging';
import { inContinuedSpan } from '../../observability/tracing';
import { JobName, type DeliveryJobData, QueueName } from '../delivery.constants';
import { EmailChannel } from '../email/email.channel';
import { SmsChannel } from '../sms/sms.channel';
import type { DeliveryChannel } from './delivery-channel';
import { DeliveryService, type DeliveryOutcome } from './delivery.service';

type JobHandler = (job: Job<DeliveryJobData>) => Promise<DeliveryOutcome>;

/** Base of every queue processor: dispatches by job name to exactly one handler (checked at boot by WorkerRunner). */
export abstract class JobProcessor extends WorkerHost {
  abstract readonly queue: QueueName;
  abstract readonly handlers: Readonly<Partial<Record<JobName, JobHandler>>>;

  process(job: Job<DeliveryJobData>): Promise<DeliveryOutcome> {
    const handler = this.handlers[job.name as JobName];
    if (!handler)
      return Promise.reject(new UnrecoverableError(`No handler for job ${job.name} on queue ${this.queue}`));
    // The lines of this delivery carry the id of the request that started it.
    return runWithRequestId(job.data.requestId, () =>
      inContinuedSpan(`deliver ${this.queue}`, job.data.traceparent, () => handler(job)),
    );
  }
}

const CHANNELS: Record<QueueName, Type<DeliveryChannel>> = {
  [QueueName.Email]: EmailChannel,
  [QueueName.Sms]: SmsChannel,
};

export interface ProcessorOptions {
  concurrency: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
}

/**
 * The queue set and worker options come from configuration, while `@Processor` takes them at decoration time, so the
 * processor class for a queue is made here when the worker module is assembled. `autorun: false`: WorkerRunner starts
 * consuming only after the boot checks passed.
 */
export function deliveryProcessorFor(queue: QueueName, options: ProcessorOptions): Type<JobProcessor> {
  @Processor(queue, {
    autorun: false,
    concurrency: options.concurrency,
    lockDuration: options.lockDurationMs,
    stalledInterval: options.stalledIntervalMs,
    maxStalledCount: 1,
  })
  class DeliveryProcessor extends JobProcessor {
    readonly queue = queue;
    readonly handlers = {
      [JobName.DeliverVerification]: (job: Job<DeliveryJobData>) => this.delivery.deliver(queue, job, this.channel),
    };

    constructor(
      private readonly delivery: DeliveryService,
      @Inject(CHANNELS[queue]) private readonly channel: DeliveryChannel,
    ) {
      super();
    }
  }
  Object.defineProperty(DeliveryProcessor, 'name', {
    value: `${queue[0].toUpperCase()}${queue.slice(1)}DeliveryProcessor`,
  });
  return DeliveryProcessor;
}
