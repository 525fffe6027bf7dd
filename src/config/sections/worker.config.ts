import { Transform } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength } from 'class-validator';
import { configSection } from '../config-section';
import { toBool, toInt } from '../env-transforms';

class WorkerVars {
  @Matches(/^(email|sms)(,(email|sms))?$/, { message: 'email, sms or email,sms' }) WORKER_QUEUES = 'email,sms';
  @Transform(toInt) @IsInt() @Min(1) @Max(500) WORKER_EMAIL_CONCURRENCY = 20;
  @Transform(toInt) @IsInt() @Min(1) @Max(500) WORKER_SMS_CONCURRENCY = 10;
  @Transform(toInt) @IsInt() @Min(0) @Max(65535) WORKER_HEALTH_PORT = 3001;
  // A job whose worker died is picked up again after about lock duration + one stalled interval (locks are renewed
  // every half duration while the job runs).
  @Transform(toInt) @IsInt() @Min(500) WORKER_LOCK_DURATION_MS = 10_000;
  @Transform(toInt) @IsInt() @Min(100) WORKER_STALLED_INTERVAL_MS = 5000;
  @Transform(toBool) @IsBoolean() WORKER_RUN_RELAY = false;
  /** Bull Board listener (off unless both are set). */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(65535) WORKER_ADMIN_PORT?: number;
  @IsOptional() @IsString() @MinLength(32) WORKER_ADMIN_TOKEN?: string;
}

export interface WorkerConfig {
  readonly worker: {
    queues: Array<'email' | 'sms'>;
    concurrency: { email: number; sms: number };
    /** 0 = an ephemeral port (tests). */
    healthPort: number;
    lockDurationMs: number;
    stalledIntervalMs: number;
    /** Also run the outbox relay and the reconciler in this worker process. */
    runRelay: boolean;
    adminPort?: number;
    adminToken?: string;
  };
}

export const workerSection = configSection({
  vars: WorkerVars,
  problems: (vars) =>
    vars.WORKER_ADMIN_PORT && !vars.WORKER_ADMIN_TOKEN
      ? ['WORKER_ADMIN_TOKEN: at least 32 characters, required with WORKER_ADMIN_PORT']
      : [],
  build: (vars): WorkerConfig => ({
    worker: {
      queues: [...new Set(vars.WORKER_QUEUES.split(','))] as Array<'email' | 'sms'>,
      concurrency: { email: vars.WORKER_EMAIL_CONCURRENCY, sms: vars.WORKER_SMS_CONCURRENCY },
      healthPort: vars.WORKER_HEALTH_PORT,
      lockDurationMs: vars.WORKER_LOCK_DURATION_MS,
      stalledIntervalMs: vars.WORKER_STALLED_INTERVAL_MS,
      runRelay: vars.WORKER_RUN_RELAY,
      adminPort: vars.WORKER_ADMIN_PORT,
      adminToken: vars.WORKER_ADMIN_TOKEN,
    },
  }),
});
