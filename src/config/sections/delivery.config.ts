import { Transform } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import { configSection } from '../config-section';
import { toInt } from '../env-transforms';

class DeliveryVars {
  @Transform(toInt) @IsInt() @Min(50) OUTBOX_RELAY_INTERVAL_MS = 1000;
  @Transform(toInt) @IsInt() @Min(100) ENQUEUE_TIMEOUT_MS = 1000;
  @Transform(toInt) @IsInt() @Min(1) @Max(50) DELIVERY_MAX_ATTEMPTS = 5;
  @Transform(toInt) @IsInt() @Min(10) DELIVERY_BACKOFF_MS = 1000;
  @Transform(toInt) @IsInt() @Min(100) @Max(120_000) DELIVERY_TIMEOUT_MS = 10_000;
  @Transform(toInt) @IsInt() @Min(100) DELIVERY_RECONCILE_INTERVAL_MS = 10_000;
  @Transform(toInt) @IsInt() @Min(0) DELIVERY_RECONCILE_AFTER_MS = 15_000;
  @Transform(toInt) @IsInt() @Min(0) DELIVERY_SHED_BACKLOG_AGE_MS = 60_000;
  @Transform(toInt) @IsInt() @Min(0) START_MAX_IN_FLIGHT = 1000;
  @Transform(toInt) @IsInt() @Min(0) @Max(65535) RELAY_HEALTH_PORT = 3002;
}

export interface DeliveryConfig {
  readonly delivery: {
    maxAttempts: number;
    backoffMs: number;
    enqueueTimeoutMs: number;
    outboxRelayIntervalMs: number;
    reconcileIntervalMs: number;
    /** Undelivered records younger than this are not looked up on the queues (their jobs are normally in flight). */
    reconcileAfterMs: number;
    /** Starts answer 503 while the oldest undelivered message of their channel is older than this (0: never). */
    shedBacklogAgeMs: number;
    /** Starts answer 503 while this many are already being processed by the process (0: no bound). */
    maxStartsInFlight: number;
  };
  /** The relay process (`npm run start:relay`): its probe listener (0 = an ephemeral port). */
  readonly relay: { healthPort: number };
  /** Timeout of one call to an SMTP server or SMS vendor. */
  readonly deliveryTimeoutMs: number;
}

export const deliverySection = configSection({
  vars: DeliveryVars,
  build: (vars): DeliveryConfig => ({
    delivery: {
      maxAttempts: vars.DELIVERY_MAX_ATTEMPTS,
      backoffMs: vars.DELIVERY_BACKOFF_MS,
      enqueueTimeoutMs: vars.ENQUEUE_TIMEOUT_MS,
      outboxRelayIntervalMs: vars.OUTBOX_RELAY_INTERVAL_MS,
      reconcileIntervalMs: vars.DELIVERY_RECONCILE_INTERVAL_MS,
      reconcileAfterMs: vars.DELIVERY_RECONCILE_AFTER_MS,
      shedBacklogAgeMs: vars.DELIVERY_SHED_BACKLOG_AGE_MS,
      maxStartsInFlight: vars.START_MAX_IN_FLIGHT,
    },
    relay: { healthPort: vars.RELAY_HEALTH_PORT },
    deliveryTimeoutMs: vars.DELIVERY_TIMEOUT_MS,
  }),
});
