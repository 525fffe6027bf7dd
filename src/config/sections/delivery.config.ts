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
}

export interface DeliveryConfig {
  readonly delivery: {
    maxAttempts: number;
    backoffMs: number;
    enqueueTimeoutMs: number;
    outboxRelayIntervalMs: number;
  };
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
    },
    deliveryTimeoutMs: vars.DELIVERY_TIMEOUT_MS,
  }),
});
