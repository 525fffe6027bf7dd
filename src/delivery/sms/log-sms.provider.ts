import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { deliveryProvider } from '../delivery-provider';
import type { SendResult } from '../worker/delivery-channel';
import type { SmsMessage, SmsProvider } from './sms.provider';

/** Local development only: prints the SMS (code included) instead of sending it. Never a production default. */
export class LogSmsProvider implements SmsProvider {
  readonly name = 'log';
  private readonly logger = new Logger('SmsLog');

  send(message: SmsMessage): Promise<SendResult> {
    this.logger.log(`From: ${message.from}\nTo: ${message.to}\n\n${message.body}`);
    return Promise.resolve({ providerMessageId: `log-${randomUUID()}` });
  }
}

export const logSms = deliveryProvider({ name: 'log', create: () => new LogSmsProvider() });
