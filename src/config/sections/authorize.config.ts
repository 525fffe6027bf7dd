import { Transform } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import { configSection } from '../config-section';
import { toInt } from '../env-transforms';

const ONE_YEAR_SECONDS = 31_557_600;

class AuthorizeVars {
  // Auth0's tenant defaults: a session ends after 3 days without use, and 7 days after login whatever happens.
  @Transform(toInt) @IsInt() @Min(60) @Max(ONE_YEAR_SECONDS) SSO_SESSION_IDLE_LIFETIME_SECONDS = 259_200;
  @Transform(toInt) @IsInt() @Min(60) @Max(ONE_YEAR_SECONDS) SSO_SESSION_LIFETIME_SECONDS = 604_800;
  /** How long a login started at /authorize may take (the hosted page's pending request). */
  @Transform(toInt) @IsInt() @Min(60) @Max(86_400) AUTHORIZE_TRANSACTION_LIFETIME_SECONDS = 1800;
  /** How often expired sessions and login tickets are deleted. */
  @Transform(toInt) @IsInt() @Min(1000) @Max(86_400_000) SSO_SESSION_SWEEP_INTERVAL_MS = 300_000;
}

export interface AuthorizeConfig {
  /** Hosted login at /authorize (seconds): SSO session lifetimes and the pending request's lifetime. */
  readonly authorize: {
    sessionIdleLifetime: number;
    sessionLifetime: number;
    transactionLifetime: number;
    sweepIntervalMs: number;
  };
}

export const authorizeSection = configSection({
  vars: AuthorizeVars,
  problems: (vars) =>
    vars.SSO_SESSION_IDLE_LIFETIME_SECONDS > vars.SSO_SESSION_LIFETIME_SECONDS
      ? ['SSO_SESSION_IDLE_LIFETIME_SECONDS (must not exceed SSO_SESSION_LIFETIME_SECONDS)']
      : [],
  build: (vars): AuthorizeConfig => ({
    authorize: {
      sessionIdleLifetime: vars.SSO_SESSION_IDLE_LIFETIME_SECONDS,
      sessionLifetime: vars.SSO_SESSION_LIFETIME_SECONDS,
      transactionLifetime: vars.AUTHORIZE_TRANSACTION_LIFETIME_SECONDS,
      sweepIntervalMs: vars.SSO_SESSION_SWEEP_INTERVAL_MS,
    },
  }),
});
