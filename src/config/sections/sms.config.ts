import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsOptional, IsString, IsUrl, Matches, MinLength } from 'class-validator';
import { configSection } from '../config-section';
import { HTTP_URL, toBool } from '../env-transforms';

class SmsVars {
  /** The `log` provider prints messages, codes included: refused in production unless explicitly allowed. */
  @Transform(toBool) @IsBoolean() ALLOW_LOG_PROVIDERS = false;
  @IsOptional() @IsIn(['twilio', 'http', 'log']) SMS_PROVIDER?: string;
  @IsUrl(HTTP_URL) TWILIO_BASE_URL = 'https://api.twilio.com';
  @IsOptional() @Matches(/^AC[0-9a-zA-Z]{1,64}$/) TWILIO_ACCOUNT_SID?: string;
  @IsOptional() @IsString() TWILIO_AUTH_TOKEN?: string;
  @IsOptional() @IsString() TWILIO_FROM?: string;
  @IsOptional() @Matches(/^MG[0-9a-zA-Z]{1,64}$/) TWILIO_MESSAGING_SERVICE_SID?: string;
  @IsOptional() @IsUrl(HTTP_URL) SMS_GATEWAY_URL?: string;
  @IsOptional() @IsString() @MinLength(16) SMS_GATEWAY_JWT_SECRET?: string;
  @Transform(toBool) @IsBoolean() SMS_GATEWAY_JWT_SECRET_BASE64 = false;
  @IsOptional() @IsString() SMS_GATEWAY_JWT_SUBJECT?: string;
  @IsOptional() @IsString() SMS_GATEWAY_JWT_AUDIENCE?: string;
}

export interface SmsConfig {
  /** The delivery provider settings; the pumping guards are `smsGuard`. */
  readonly sms: {
    provider: 'twilio' | 'http' | 'log';
    twilio: { baseUrl: string; accountSid?: string; authToken?: string; from?: string; messagingServiceSid?: string };
    gateway: { url?: string; jwt?: { secret: Buffer; subject?: string; audience?: string } };
  };
}

export const smsSection = configSection({
  vars: SmsVars,
  problems: (vars, { production }) =>
    production && vars.SMS_PROVIDER === 'log' && !vars.ALLOW_LOG_PROVIDERS
      ? ['SMS_PROVIDER (`log` prints codes: refused in production unless ALLOW_LOG_PROVIDERS=true)']
      : [],
  // The `log` provider prints messages (codes included): never a default in production.
  build: (vars, { production }): SmsConfig => ({
    sms: {
      provider: (vars.SMS_PROVIDER ?? (production ? 'twilio' : 'log')) as SmsConfig['sms']['provider'],
      twilio: {
        baseUrl: vars.TWILIO_BASE_URL.replace(/\/+$/, ''),
        accountSid: vars.TWILIO_ACCOUNT_SID,
        authToken: vars.TWILIO_AUTH_TOKEN,
        from: vars.TWILIO_FROM,
        messagingServiceSid: vars.TWILIO_MESSAGING_SERVICE_SID,
      },
      gateway: {
        url: vars.SMS_GATEWAY_URL,
        jwt: vars.SMS_GATEWAY_JWT_SECRET
          ? {
              secret: Buffer.from(vars.SMS_GATEWAY_JWT_SECRET, vars.SMS_GATEWAY_JWT_SECRET_BASE64 ? 'base64' : 'utf8'),
              subject: vars.SMS_GATEWAY_JWT_SUBJECT,
              audience: vars.SMS_GATEWAY_JWT_AUDIENCE,
            }
          : undefined,
      },
    },
  }),
  workerProblems: ({ sms }, queues) => {
    if (!queues.includes('sms')) return [];
    const problems: string[] = [];
    if (sms.provider === 'twilio') {
      const { accountSid, authToken, from, messagingServiceSid } = sms.twilio;
      if (!accountSid || !authToken)
        problems.push('TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (required with SMS_PROVIDER=twilio)');
      if (from && messagingServiceSid) problems.push('TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID (set one, not both)');
    }
    if (sms.provider === 'http' && !sms.gateway.url) problems.push('SMS_GATEWAY_URL (required with SMS_PROVIDER=http)');
    return problems;
  },
});
