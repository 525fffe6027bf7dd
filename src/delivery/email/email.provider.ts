import type { SendResult } from '../worker/delivery-channel';

export interface EmailMessage {
  from: string;
  to: string;
  subject: string;
  html: string;
  text: string;
}

/** One implementation per transport, registered in email-providers.ts and chosen by EMAIL_PROVIDER. Throws DeliveryError. */
export interface EmailProvider {
  /** Recorded with each attempt. */
  readonly name: string;
  send(message: EmailMessage): Promise<SendResult>;
}

export const EMAIL_PROVIDER = Symbol('EMAIL_PROVIDER');
