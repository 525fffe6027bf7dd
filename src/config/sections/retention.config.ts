import { Transform } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import { configSection } from '../config-section';
import { toInt } from '../env-transforms';

class RetentionVars {
  /** Days a verification record, its delivery attempts and other expired login data are kept. */
  @Transform(toInt) @IsInt() @Min(1) @Max(3650) RETENTION_DAYS = 7;
  /** How often a relay runs the retention pass (creating the next days' partitions, dropping the expired ones). */
  @Transform(toInt) @IsInt() @Min(1000) @Max(86_400_000) RETENTION_INTERVAL_MS = 3_600_000;
}

export interface RetentionConfig {
  readonly retention: { days: number; intervalMs: number };
}

export const retentionSection = configSection({
  vars: RetentionVars,
  build: (vars): RetentionConfig => ({
    retention: { days: vars.RETENTION_DAYS, intervalMs: vars.RETENTION_INTERVAL_MS },
  }),
});
