import { IsOptional, IsString, IsUrl, Matches } from 'class-validator';
import { HTTP_URL } from '../../config/env-transforms';
import { deliveryProvider } from '../delivery-provider';
import type { SendResult } from '../worker/delivery-channel';
import { DeliveryError, httpDeliveryError, postWithTimeout } from '../worker/delivery-error';
import type { SmsMessage, SmsProvider } from './sms.provider';

/** Twilio error codes meaning "this number can never receive this message": fail at once whatever the HTTP status. */
const PERMANENT_TWILIO_CODES = new Set([21211, 21214, 21408, 21610, 21612, 21614]);

class TwilioVars {
  @IsUrl(HTTP_URL) TWILIO_BASE_URL = 'https://api.twilio.com';
  @IsOptional() @Matches(/^AC[0-9a-zA-Z]{1,64}$/) TWILIO_ACCOUNT_SID?: string;
  @IsOptional() @IsString() TWILIO_AUTH_TOKEN?: string;
  @IsOptional() @IsString() TWILIO_FROM?: string;
  @IsOptional() @Matches(/^MG[0-9a-zA-Z]{1,64}$/) TWILIO_MESSAGING_SERVICE_SID?: string;
}

export interface TwilioSettings {
  baseUrl: string;
  accountSid: string;
  authToken: string;
  /** A sender overriding the connection's; or a Messaging Service, which picks the sender itself. */
  from?: string;
  messagingServiceSid?: string;
}

/** Twilio Programmable Messaging over its REST API with plain fetch (no SDK). */
export class TwilioSmsProvider implements SmsProvider {
  readonly name = 'twilio';

  constructor(
    private readonly settings: TwilioSettings,
    private readonly timeoutMs: number,
  ) {}

  async send(message: SmsMessage): Promise<SendResult> {
    const { baseUrl, accountSid, authToken, from, messagingServiceSid } = this.settings;
    const form = new URLSearchParams({ To: message.to, Body: message.body });
    if (messagingServiceSid) form.set('MessagingServiceSid', messagingServiceSid);
    else form.set('From', from ?? message.from);
    const url = `${baseUrl}/2010-04-01/Accounts/${encodeURIComponent(accountSid)}/Messages.json`;
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
      this.timeoutMs,
    );
    const body = (await response.json().catch(() => ({}))) as { sid?: string; code?: number; message?: string };
    if (response.ok) return { providerMessageId: body.sid ?? null };
    const failure = httpDeliveryError('Twilio', response.status, body.code ? `error ${body.code}` : '');
    throw body.code && PERMANENT_TWILIO_CODES.has(body.code) ? new DeliveryError(failure.message, true) : failure;
  }
}

export const twilioSms = deliveryProvider({
  name: 'twilio',
  vars: TwilioVars,
  problems: (vars) => [
    ...(vars.TWILIO_ACCOUNT_SID && vars.TWILIO_AUTH_TOKEN
      ? []
      : ['TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (required with SMS_PROVIDER=twilio)']),
    ...(vars.TWILIO_FROM && vars.TWILIO_MESSAGING_SERVICE_SID
      ? ['TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID (set one, not both)']
      : []),
  ],
  create: (vars, config) =>
    new TwilioSmsProvider(
      {
        baseUrl: vars.TWILIO_BASE_URL.replace(/\/+$/, ''),
        accountSid: vars.TWILIO_ACCOUNT_SID ?? '',
        authToken: vars.TWILIO_AUTH_TOKEN ?? '',
        from: vars.TWILIO_FROM,
        messagingServiceSid: vars.TWILIO_MESSAGING_SERVICE_SID,
      },
      config.deliveryTimeoutMs,
    ),
});
