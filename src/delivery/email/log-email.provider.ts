import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { deliveryProvider } from '../delivery-provider';
import type { SendResult } from '../worker/delivery-channel';
import type { EmailMessage, EmailProvider } from './email.provider';

/** Local development only: prints the message (code included) instead of sending it. Never a production default. */
export class LogEmailProvider implements EmailProvider {
  readonly name = 'log';
  private readonly logger = new Logger('EmailLog');

  send(message: EmailMessage): Promise<SendResult> {
    this.logger.log(`From: ${message.from}\nTo: ${message.to}\nSubject: ${message.subject}\n\n${message.text}`);
    return Promise.resolve({ providerMessageId: `log-${randomUUID()}` });
  }
}

export const logEmail = deliveryProvider({ name: 'log', create: () => new LogEmailProvider() });
