import { Transform } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import { configSection } from '../config-section';
import { toInt } from '../env-transforms';

/** Auth0's limit for a refresh token's maximum lifetime: one year. */
const ONE_YEAR_SECONDS = 31_557_600;

class RefreshTokensVars {
  // Auth0's defaults for rotating refresh tokens: 30 days absolute; 15 days idle, as exported client configs show.
  @Transform(toInt) @IsInt() @Min(60) @Max(ONE_YEAR_SECONDS) REFRESH_TOKEN_LIFETIME_SECONDS = 2_592_000;
  @Transform(toInt) @IsInt() @Min(60) @Max(ONE_YEAR_SECONDS) REFRESH_TOKEN_IDLE_LIFETIME_SECONDS = 1_296_000;
  @Transform(toInt) @IsInt() @Min(0) @Max(3600) REFRESH_TOKEN_REUSE_INTERVAL_SECONDS = 0;
}

export interface RefreshTokensConfig {
  /** Rotating refresh tokens (seconds): absolute and idle lifetimes, and the reuse interval (Auth0's `leeway`). */
  readonly refreshTokens: { lifetime: number; idleLifetime: number; reuseInterval: number };
}

export const refreshTokensSection = configSection({
  vars: RefreshTokensVars,
  problems: (vars) =>
    vars.REFRESH_TOKEN_IDLE_LIFETIME_SECONDS > vars.REFRESH_TOKEN_LIFETIME_SECONDS
      ? ['REFRESH_TOKEN_IDLE_LIFETIME_SECONDS (must not exceed REFRESH_TOKEN_LIFETIME_SECONDS)']
      : [],
  build: (vars): RefreshTokensConfig => ({
    refreshTokens: {
      lifetime: vars.REFRESH_TOKEN_LIFETIME_SECONDS,
      idleLifetime: vars.REFRESH_TOKEN_IDLE_LIFETIME_SECONDS,
      reuseInterval: vars.REFRESH_TOKEN_REUSE_INTERVAL_SECONDS,
    },
  }),
});
