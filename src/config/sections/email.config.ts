import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { configSection } from '../config-section';
import { toBool, toInt } from '../env-transforms';

class EmailVars {
  /** The `log` provider prints messages, codes included: refused in production unless explicitly allowed. */
  @Transform(toBool) @IsBoolean() ALLOW_LOG_PROVIDERS = false;
  @IsOptional() @IsIn(['smtp', 'log']) EMAIL_PROVIDER?: string;
  @IsOptional() @Matches(/^smtps?:\/\//) SMTP_URL?: string;
  // Half the default email concurrency: a worker then keeps enough sessions open that its jobs rarely wait for one.
  @Transform(toInt) @IsInt() @Min(1) @Max(100) SMTP_POOL_SIZE = 10;
  @Transform(toBool) @IsBoolean() SMTP_TLS_REJECT_UNAUTHORIZED = true;
  @Transform(toBool) @IsBoolean() SMTP_REQUIRE_TLS = false;
}

export interface EmailConfig {
  readonly email: {
    provider: 'smtp' | 'log';
    smtp: { url?: string; poolSize: number; tlsRejectUnauthorized: boolean; requireTls: boolean };
  };
}

export const emailSection = configSection({
  vars: EmailVars,
  problems: (vars, { production }) =>
    production && vars.EMAIL_PROVIDER === 'log' && !vars.ALLOW_LOG_PROVIDERS
      ? ['EMAIL_PROVIDER (`log` prints codes: refused in production unless ALLOW_LOG_PROVIDERS=true)']
      : [],
  // The `log` provider prints messages (codes included): never a default in production.
  build: (vars, { production }): EmailConfig => ({
    email: {
      provider: (vars.EMAIL_PROVIDER ?? (production ? 'smtp' : 'log')) as EmailConfig['email']['provider'],
      smtp: {
        url: vars.SMTP_URL,
        poolSize: vars.SMTP_POOL_SIZE,
        tlsRejectUnauthorized: vars.SMTP_TLS_REJECT_UNAUTHORIZED,
        requireTls: vars.SMTP_REQUIRE_TLS,
      },
    },
  }),
  workerProblems: ({ email }, queues) =>
    queues.includes('email') && email.provider === 'smtp' && !email.smtp.url
      ? ['SMTP_URL (required with EMAIL_PROVIDER=smtp)']
      : [],
});
