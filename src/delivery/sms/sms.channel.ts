import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import type { DeliverySecret } from '../../verification/secret-box';
import { MessageRenderer } from '../templates/message-renderer';
import type { DeliveryChannel, DeliveryTarget, SendResult } from '../worker/delivery-channel';
import { SMS_PROVIDER, type SmsProvider } from './sms.provider';

@Injectable()
export class SmsChannel implements DeliveryChannel {
  readonly provider: string;
  /** The origin host the Web OTP line binds the code to (ISSUER_BASE_URL's host). */
  private readonly domain: string;

  constructor(
    @Inject(SMS_PROVIDER) private readonly sms: SmsProvider,
    private readonly renderer: MessageRenderer,
    config: AppConfig,
  ) {
    this.provider = sms.name;
    this.domain = new URL(config.issuerBaseUrl).hostname;
  }

  async send(target: DeliveryTarget, secret: DeliverySecret): Promise<SendResult> {
    const text = this.renderer.renderSms(target.templates, target.requestLanguage, {
      code: secret.code,
      password: secret.code,
      link: null,
      send: 'code',
      application: { name: target.applicationName },
      connection: { name: target.connection },
      request_language: target.requestLanguage,
      phone_number: target.identifier,
      operation: null,
    });
    return this.sms.send({
      to: target.identifier,
      from: target.sender,
      body: withWebOtpLine(text, this.domain, secret.code),
    });
  }
}

/**
 * WICG Web OTP / Apple's domain-bound codes: the last line `@<domain> #<code>` lets browsers and phones offer the
 * code for autofill on that origin only. Added unless the template already ends with it.
 * See https://wicg.github.io/web-otp/#message-format
 */
export function withWebOtpLine(text: string, domain: string, code: string): string {
  const line = `@${domain} #${code}`;
  return text.endsWith(line) ? text : `${text}\n\n${line}`;
}
