import type { ConnectionTemplates } from '../../verification/connection.entity';
import type { DeliverySecret } from '../../verification/secret-box';
import type { SendMode } from '../../verification/verification.entity';

/** What a worker knows about the record it delivers (loaded at send time, never from the job payload). */
export interface DeliveryTarget {
  verificationId: string;
  clientId: string;
  applicationName: string;
  connection: string;
  sender: string;
  templates: ConnectionTemplates;
  identifier: string;
  send: SendMode;
  requestLanguage: string | null;
  authParams: Record<string, string>;
}

export interface SendResult {
  providerMessageId: string | null;
}

/** One per queue: renders the message for the record and hands it to the configured provider. */
export interface DeliveryChannel {
  /** The provider id recorded with each attempt (`smtp`, `twilio`, `http`, `log`). */
  readonly provider: string;
  send(target: DeliveryTarget, secret: DeliverySecret): Promise<SendResult>;
}
