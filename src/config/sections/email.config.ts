import { Transform } from 'class-transformer';
import { IsBoolean, IsOptional, IsString } from 'class-validator';
import { configSection } from '../config-section';
import { toBool } from '../env-transforms';

class EmailVars {
  /** The `log` provider prints messages, codes included: refused in production unless explicitly allowed. */
  @Transform(toBool) @IsBoolean() ALLOW_LOG_PROVIDERS = false;
  /** One of the registered providers (src/delivery/email/email-providers.ts), checked with its own variables by workers. */
  @IsOptional() @IsString() EMAIL_PROVIDER?: string;
}

export interface EmailConfig {
  /** The delivery provider; its settings belong to it. */
  readonly email: { provider: string };
}

export const emailSection = configSection({
  vars: EmailVars,
  problems: (vars, { production }) =>
    production && vars.EMAIL_PROVIDER === 'log' && !vars.ALLOW_LOG_PROVIDERS
      ? ['EMAIL_PROVIDER (`log` prints codes: refused in production unless ALLOW_LOG_PROVIDERS=true)']
      : [],
  // The `log` provider prints messages (codes included): never a default in production.
  build: (vars, { production }): EmailConfig => ({
    email: { provider: vars.EMAIL_PROVIDER ?? (production ? 'smtp' : 'log') },
  }),
});
