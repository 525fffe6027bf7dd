import type { SendResult } from '../worker/delivery-channel';

export interface SmsMessage {
  to: string;
  /** The connection's sender (a number or alphanumeric id); providers may override it from their own config. */
  from: string;
  body: string;
}

/** One implementation per vendor, registered in sms-providers.ts and chosen by SMS_PROVIDER. Throws DeliveryError. */
export interface SmsProvider {
  /** Recorded with each attempt. */
  readonly name: string;
  send(message: SmsMessage): Promise<SendResult>;
}

export const SMS_PROVIDER = Symbol('SMS_PROVIDER');
