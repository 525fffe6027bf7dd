import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import type { SendResult } from '../worker/delivery-channel';
import { DeliveryError, httpDeliveryError, postWithTimeout } from '../worker/delivery-error';
import type { SmsMessage, SmsProvider } from './sms.provider';

/** Twilio error codes meaning "this number can never receive this message": fail at once whatever the HTTP status. */
const PERMANENT_TWILIO_CODES = new Set([21211, 21214, 21408, 21610, 21612, 21614]);

/** Twilio Programmable Messaging over its REST API with plain fetch (no SDK). */
@Injectable()
export class TwilioSmsProvider implements SmsProvider {
  readonly name = 'twilio';

  constructor(private readonly config: AppConfig) {}

  async send(message: SmsMessage): Promise<SendResult> {
    const { baseUrl, accountSid, authToken, from, messagingServiceSid } = this.config.sms.twilio;
    const form = new URLSearchParams({ To: message.to, Body: message.body });
    if (messagingServiceSid) form.set('MessagingServiceSid', messagingServiceSid);
    else form.set('From', from ?? message.from);
    const url = `${baseUrl}/2010-04-01/Accounts/${encodeURIComponent(accountSid ?? '')}/Messages.json`;
    const response = await postWithTimeout(
      'Twilio',
      url,
      {
        headers: {
          authorization: `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: form.toString(),
      },
      this.config.deliveryTimeoutMs,
    );
    const body = (await response.json().catch(() => ({}))) as { sid?: string; code?: number; message?: string };
    if (response.ok) return { providerMessageId: body.sid ?? null };
    const failure = httpDeliveryError('Twilio', response.status, body.code ? `error ${body.code}` : '');
    throw body.code && PERMANENT_TWILIO_CODES.has(body.code) ? new DeliveryError(failure.message, true) : failure;
  }
}
