import { Injectable } from '@nestjs/common';
import { SignJWT } from 'jose';
import { AppConfig } from '../../config/app-config';
import type { SendResult } from '../worker/delivery-channel';
import { httpDeliveryError, postWithTimeout } from '../worker/delivery-error';
import type { SmsMessage, SmsProvider } from './sms.provider';

/** Lifetime of the gateway JWT: one request, so minutes are plenty. */
const GATEWAY_JWT_TTL = '5m';

/**
 * Auth0's legacy custom SMS gateway contract: POST `{recipient, body, sender}` as JSON, optionally with a Bearer JWT
 * (HS256, `sub`/`aud` from config, secret optionally base64) so teams can plug in their own SMS provider.
 */
@Injectable()
export class HttpGatewaySmsProvider implements SmsProvider {
  readonly name = 'http';

  constructor(private readonly config: AppConfig) {}

  async send(message: SmsMessage): Promise<SendResult> {
    const { url, jwt } = this.config.sms.gateway;
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
      url ?? '',
      { headers, body: JSON.stringify({ recipient: message.to, body: message.body, sender: message.from }) },
      this.config.deliveryTimeoutMs,
    );
    const body = (await response.json().catch(() => ({}))) as { id?: unknown; sid?: unknown; messageId?: unknown };
    if (!response.ok) throw httpDeliveryError('SMS gateway', response.status, '');
    const id = body.id ?? body.messageId ?? body.sid;
    return { providerMessageId: typeof id === 'string' || typeof id === 'number' ? String(id) : null };
  }
}
