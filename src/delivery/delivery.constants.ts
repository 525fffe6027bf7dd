export enum QueueName {
  Email = 'email',
  Sms = 'sms',
}

export enum JobName {
  DeliverVerification = 'deliver-verification',
}

/** Job payload: the record id plus the code (and link token) sealed with AES-256-GCM; never plaintext in Redis. */
export interface DeliveryJobData {
  verificationId: string;
  sealedSecret: string;
  /** The x-request-id of the start, so the worker's lines can be joined to it. */
  requestId?: string;
  /** When the start was accepted (ms epoch), for the start-to-sent latency. */
  acceptedAt?: number;
  /** W3C trace context of the start, when tracing is on, so the delivery continues its trace. */
  traceparent?: string;
}

/**
 * A queue's BullMQ prefix: REDIS_PREFIX plus the queue's hash tag, so every key of one queue lands in one Redis Cluster
 * slot (BullMQ's scripts need that) while different queues may live on different nodes.
 */
export const queuePrefix = (redisPrefix: string, queue: `${QueueName}`): string => `${redisPrefix}:{${queue}}`;

/** BullMQ custom job ids may not contain ':' (stack.md §2); one job per record makes enqueueing idempotent. */
export const jobIdFor = (verificationId: string): string => `otp-${verificationId}`;

export const queueForStrategy = (strategy: 'email' | 'sms'): QueueName =>
  strategy === 'email' ? QueueName.Email : QueueName.Sms;

/** The job names each queue carries; a worker refuses to boot unless each has exactly one handler. */
export const JOBS_BY_QUEUE: Readonly<Record<QueueName, readonly JobName[]>> = {
  [QueueName.Email]: [JobName.DeliverVerification],
  [QueueName.Sms]: [JobName.DeliverVerification],
};

/**
 * How a job whose message the provider accepted, but whose outcome could not be recorded, ends in the failed set:
 * the reconciler reads it back (DeliveryReconciler) and marks the record sent rather than sending again.
 */
export const sentUnrecordedReason = (providerMessageId: string | null): string =>
  `sent (provider id ${providerMessageId ?? 'none'}) but the outcome could not be recorded`;
export const SENT_UNRECORDED = /^sent \(provider id (.*)\) but the outcome could not be recorded$/;
