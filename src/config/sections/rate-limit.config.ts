import { Transform } from 'class-transformer';
import { IsInt, Matches, Min } from 'class-validator';
import { configSection } from '../config-section';
import { toInt } from '../env-transforms';

class RateLimitVars {
  @Transform(toInt) @IsInt() @Min(1) RATE_LIMIT_START_PER_IP = 50;
  @Transform(toInt) @IsInt() @Min(1000) RATE_LIMIT_START_WINDOW_MS = 3_600_000;
  @Transform(toInt) @IsInt() @Min(1) RATE_LIMIT_START_PER_IDENTIFIER = 10;
  @Transform(toInt) @IsInt() @Min(0) RATE_LIMIT_START_IDENTIFIER_COOLDOWN_MS = 30_000;
  @Transform(toInt) @IsInt() @Min(1) RATE_LIMIT_START_PER_CLIENT = 10_000;
  @Transform(toInt) @IsInt() @Min(1) RATE_LIMIT_OTP_FAILURES_PER_IP = 50;
  @Transform(toInt) @IsInt() @Min(1) RATE_LIMIT_OTP_FAILURES_PER_IDENTIFIER = 10;
  @Transform(toInt) @IsInt() @Min(1000) RATE_LIMIT_OTP_WINDOW_MS = 3_600_000;
  /** One IP's failures at one identifier: below the identifier's own limit, so one IP cannot spend all of it. */
  @Transform(toInt) @IsInt() @Min(1) RATE_LIMIT_OTP_FAILURES_PER_IDENTIFIER_IP = 5;
  /**
   * Backoff per identifier instead of a long block: from the Nth attempt in the window on (0 = off), each attempt
   * makes the next wait BASE × 2^(attempts − N), at most MAX.
   */
  @Transform(toInt) @IsInt() @Min(0) RATE_LIMIT_OTP_BACKOFF_AFTER = 3;
  @Transform(toInt) @IsInt() @Min(1) RATE_LIMIT_OTP_BACKOFF_BASE_MS = 60_000;
  @Transform(toInt) @IsInt() @Min(1) RATE_LIMIT_OTP_BACKOFF_MAX_MS = 900_000;
  /** The limits that Postgres enforces while Redis is unavailable; every other limit then fails open (logged). */
  @Matches(/^(none|((otp-failures-identifier|start-identifier)(,(otp-failures-identifier|start-identifier))*))$/)
  RATE_LIMIT_POSTGRES_FALLBACK = 'otp-failures-identifier,start-identifier';
}

/** Limits with a Postgres floor: the ones that bound guessing an identifier's code. */
export type PostgresFallbackLimit = 'otp-failures-identifier' | 'start-identifier';

/** Limits a client may override in its `rate_limits` column (same names, camelCase). */
export interface ClientRateLimits {
  startPerIp: number;
  startPerIdentifier: number;
  startIdentifierCooldownMs: number;
  startPerClient: number;
  otpFailuresPerIp: number;
  otpFailuresPerIdentifier: number;
}

export interface RateLimitConfig {
  readonly rateLimit: {
    startWindowMs: number;
    otpWindowMs: number;
    defaults: ClientRateLimits;
    postgresFallback: ReadonlySet<PostgresFallbackLimit>;
    otpFailuresPerIdentifierIp: number;
    otpBackoff: { after: number; baseMs: number; maxMs: number };
  };
}

export const rateLimitSection = configSection({
  vars: RateLimitVars,
  build: (vars): RateLimitConfig => ({
    rateLimit: {
      startWindowMs: vars.RATE_LIMIT_START_WINDOW_MS,
      otpWindowMs: vars.RATE_LIMIT_OTP_WINDOW_MS,
      otpFailuresPerIdentifierIp: vars.RATE_LIMIT_OTP_FAILURES_PER_IDENTIFIER_IP,
      otpBackoff: {
        after: vars.RATE_LIMIT_OTP_BACKOFF_AFTER,
        baseMs: vars.RATE_LIMIT_OTP_BACKOFF_BASE_MS,
        maxMs: vars.RATE_LIMIT_OTP_BACKOFF_MAX_MS,
      },
      postgresFallback: new Set(
        vars.RATE_LIMIT_POSTGRES_FALLBACK === 'none'
          ? []
          : (vars.RATE_LIMIT_POSTGRES_FALLBACK.split(',') as PostgresFallbackLimit[]),
      ),
      defaults: {
        startPerIp: vars.RATE_LIMIT_START_PER_IP,
        startPerIdentifier: vars.RATE_LIMIT_START_PER_IDENTIFIER,
        startIdentifierCooldownMs: vars.RATE_LIMIT_START_IDENTIFIER_COOLDOWN_MS,
        startPerClient: vars.RATE_LIMIT_START_PER_CLIENT,
        otpFailuresPerIp: vars.RATE_LIMIT_OTP_FAILURES_PER_IP,
        otpFailuresPerIdentifier: vars.RATE_LIMIT_OTP_FAILURES_PER_IDENTIFIER,
      },
    },
  }),
});
