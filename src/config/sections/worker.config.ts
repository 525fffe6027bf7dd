import { Transform } from 'class-transformer';
import { IsInt, Matches, Max, Min } from 'class-validator';
import { configSection } from '../config-section';
import { toInt } from '../env-transforms';

class WorkerVars {
  @Matches(/^(email|sms)(,(email|sms))?$/) WORKER_QUEUES = 'email,sms';
  @Transform(toInt) @IsInt() @Min(1) @Max(500) WORKER_EMAIL_CONCURRENCY = 20;
  @Transform(toInt) @IsInt() @Min(1) @Max(500) WORKER_SMS_CONCURRENCY = 10;
  @Transform(toInt) @IsInt() @Min(0) @Max(65535) WORKER_HEALTH_PORT = 3001;
  @Transform(toInt) @IsInt() @Min(500) WORKER_LOCK_DURATION_MS = 30_000;
  @Transform(toInt) @IsInt() @Min(100) WORKER_STALLED_INTERVAL_MS = 30_000;
}

export interface WorkerConfig {
  readonly worker: {
    queues: Array<'email' | 'sms'>;
    concurrency: { email: number; sms: number };
    /** 0 = an ephemeral port (tests). */
    healthPort: number;
    lockDurationMs: number;
    stalledIntervalMs: number;
  };
}

export const workerSection = configSection({
  vars: WorkerVars,
  build: (vars): WorkerConfig => ({
    worker: {
      queues: [...new Set(vars.WORKER_QUEUES.split(','))] as Array<'email' | 'sms'>,
      concurrency: { email: vars.WORKER_EMAIL_CONCURRENCY, sms: vars.WORKER_SMS_CONCURRENCY },
      healthPort: vars.WORKER_HEALTH_PORT,
      lockDurationMs: vars.WORKER_LOCK_DURATION_MS,
      stalledIntervalMs: vars.WORKER_STALLED_INTERVAL_MS,
    },
  }),
});
