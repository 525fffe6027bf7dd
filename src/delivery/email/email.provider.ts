import type { SendResult } from '../worker/delivery-channel';

export interface EmailMessage {
  from: string;
  to: string;
  subject: string;
  html: string;
  text: string;
}

/** One implementation per transport (`smtp`, `log`), chosen by EMAIL_PROVIDER. Throws DeliveryError. */
export interface EmailProvider {
  readonly name: 'smtp' | 'log';
  send(message: EmailMessage): Promise<SendResult>;
}

export const EMAIL_PROVIDER = Symbol('EMAIL_PROVIDER');
