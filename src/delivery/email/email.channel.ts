import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { buildMagicLink } from '../../verification/magic-link';
import type { DeliverySecret } from '../../verification/secret-box';
import { MessageRenderer } from '../templates/message-renderer';
import type { DeliveryChannel, DeliveryTarget, SendResult } from '../worker/delivery-channel';
import { DeliveryError } from '../worker/delivery-error';
import { EMAIL_PROVIDER, type EmailProvider } from './email.provider';

@Injectable()
export class EmailChannel implements DeliveryChannel {
  readonly provider: string;

  constructor(
    @Inject(EMAIL_PROVIDER) private readonly email: EmailProvider,
    private readonly renderer: MessageRenderer,
    private readonly config: AppConfig,
  ) {
    this.provider = email.name;
  }

  async send(target: DeliveryTarget, secret: DeliverySecret): Promise<SendResult> {
    if (target.send === 'link' && !secret.linkToken)
      throw new DeliveryError('link requested but the job carries no link token', true);
    const link = target.send === 'link' ? buildMagicLink(this.config.issuerBaseUrl, target, secret.linkToken!) : null;
    const rendered = this.renderer.renderEmail(target.templates, target.requestLanguage, {
      code: secret.code,
      link,
      send: target.send,
      application: { name: target.applicationName },
      connection: { name: target.connection },
      request_language: target.requestLanguage,
      email: target.identifier,
      operation: null,
    });
    return this.email.send({ from: target.sender, to: target.identifier, ...rendered });
  }
}
