import { Transform } from 'class-transformer';
import { IsBoolean, IsOptional, IsString } from 'class-validator';
import { configSection } from '../config-section';
import { toBool } from '../env-transforms';

class SmsVars {
  /** The `log` provider prints messages, codes included: refused in production unless explicitly allowed. */
  @Transform(toBool) @IsBoolean() ALLOW_LOG_PROVIDERS = false;
  /** One of the registered providers (src/delivery/sms/sms-providers.ts), checked with its own variables by workers. */
  @IsOptional() @IsString() SMS_PROVIDER?: string;
}

export interface SmsConfig {
  /** The delivery provider; its settings belong to it, the pumping guards are `smsGuard`. */
  readonly sms: { provider: string };
}

export const smsSection = configSection({
  vars: SmsVars,
  problems: (vars, { production }) =>
    production && vars.SMS_PROVIDER === 'log' && !vars.ALLOW_LOG_PROVIDERS
      ? ['SMS_PROVIDER (`log` prints codes: refused in production unless ALLOW_LOG_PROVIDERS=true)']
      : [],
  // The `log` provider prints messages (codes included): never a default in production.
  build: (vars, { production }): SmsConfig => ({
    sms: { provider: vars.SMS_PROVIDER ?? (production ? 'twilio' : 'log') },
  }),
});
