import { Transform } from 'class-transformer';
import { IsBoolean, IsOptional, IsString, IsUrl, MinLength } from 'class-validator';
import { SignJWT } from 'jose';
import { HTTP_URL, toBool } from '../../config/env-transforms';
import { deliveryProvider } from '../delivery-provider';
import type { SendResult } from '../worker/delivery-channel';
import { httpDeliveryError, postWithTimeout } from '../worker/delivery-error';
import type { SmsMessage, SmsProvider } from './sms.provider';

/** Lifetime of the gateway JWT: one request, so minutes are plenty. */
const GATEWAY_JWT_TTL = '5m';

class HttpGatewayVars {
  @IsOptional() @IsUrl(HTTP_URL) SMS_GATEWAY_URL?: string;
  @IsOptional() @IsString() @MinLength(16) SMS_GATEWAY_JWT_SECRET?: string;
  @Transform(toBool) @IsBoolean() SMS_GATEWAY_JWT_SECRET_BASE64 = false;
  @IsOptional() @IsString() SMS_GATEWAY_JWT_SUBJECT?: string;
  @IsOptional() @IsString() SMS_GATEWAY_JWT_AUDIENCE?: string;
}

export interface HttpGatewaySettings {
  url: string;
  jwt?: { secret: Buffer; subject?: string; audience?: string };
}

/**
 * Auth0's legacy custom SMS gateway contract: POST `{recipient, body, sender}` as JSON, optionally with a Bearer JWT
 * (HS256, `sub`/`aud` from config, secret optionally base64) so teams can plug in their own SMS provider.
 */
export class HttpGatewaySmsProvider implements SmsProvider {
  readonly name = 'http';

  constructor(
    private readonly settings: HttpGatewaySettings,
    private readonly timeoutMs: number,
  ) {}

  async send(message: SmsMessage): Promise<SendResult> {
    const { url, jwt } = this.settings;
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (jwt) {
      const token = new SignJWT({})
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setIssuedAt()
        .setExpirationTime(GATEWAY_JWT_TTL);
      if (jwt.subject) token.setSubject(jwt.subject);
      if (jwt.audience) token.setAudience(jwt.audience);
      headers.authorization = `Bearer ${await token.sign(jwt.secret)}`;
    }
    const response = await postWithTimeout(
      'SMS gateway',
      url,
      { headers, body: JSON.stringify({ recipient: message.to, body: message.body, sender: message.from }) },
      this.timeoutMs,
    );
    const body = (await response.json().catch(() => ({}))) as { id?: unknown; sid?: unknown; messageId?: unknown };
    if (!response.ok) throw httpDeliveryError('SMS gateway', response.status, '');
    const id = body.id ?? body.messageId ?? body.sid;
    return { providerMessageId: typeof id === 'string' || typeof id === 'number' ? String(id) : null };
  }
}

export const httpGatewaySms = deliveryProvider({
  name: 'http',
  vars: HttpGatewayVars,
  problems: (vars) => (vars.SMS_GATEWAY_URL ? [] : ['SMS_GATEWAY_URL (required with SMS_PROVIDER=http)']),
  create: (vars, config) =>
    new HttpGatewaySmsProvider(
      {
        url: vars.SMS_GATEWAY_URL ?? '',
        jwt: vars.SMS_GATEWAY_JWT_SECRET
          ? {
              secret: Buffer.from(vars.SMS_GATEWAY_JWT_SECRET, vars.SMS_GATEWAY_JWT_SECRET_BASE64 ? 'base64' : 'utf8'),
              subject: vars.SMS_GATEWAY_JWT_SUBJECT,
              audience: vars.SMS_GATEWAY_JWT_AUDIENCE,
            }
          : undefined,
      },
      config.deliveryTimeoutMs,
    ),
});
