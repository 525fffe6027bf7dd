import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { createTransport } from 'nodemailer';
import { AppConfig } from '../../config/app-config';
import type { SendResult } from '../worker/delivery-channel';
import { DeliveryError } from '../worker/delivery-error';
import type { EmailMessage, EmailProvider } from './email.provider';

/** nodemailer over pooled SMTP connections (SMTP_URL, SMTP_POOL_SIZE, TLS options). */
@Injectable()
export class SmtpEmailProvider implements EmailProvider, OnApplicationShutdown {
  readonly name = 'smtp';
  private readonly transport;

  constructor(config: AppConfig) {
    const { smtp } = config.email;
    const timeout = config.deliveryTimeoutMs;
    this.transport = createTransport({
      pool: true,
      url: smtp.url,
      maxConnections: smtp.poolSize,
      maxMessages: Infinity,
      // Retries belong to BullMQ (backoff, attempt log, dead-letter); the pool must not silently resend on its own.
      maxRequeues: 0,
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
      requireTLS: smtp.requireTls,
      tls: { rejectUnauthorized: smtp.tlsRejectUnauthorized },
      // Messages are built from templates only: never let a template pull in local files or URLs.
      disableFileAccess: true,
      disableUrlAccess: true,
    });
  }

  async send(message: EmailMessage): Promise<SendResult> {
    try {
      // nodemailer builds the multipart/alternative message (RFC 2046 §5.1.4) and the envelope from From and To.
      const { from, to, subject, text, html } = message;
      const info = await this.transport.sendMail({ from, to, subject, text, html });
      return { providerMessageId: info.messageId ?? null };
    } catch (err) {
      throw smtpDeliveryError(err as SmtpFailure);
    }
  }

  onApplicationShutdown(): void {
    this.transport.close();
  }
}

type SmtpFailure = Error & { code?: string; responseCode?: number; command?: string };

/** RFC 5321 §4.2.1: 4yz replies are transient, 5yz permanent. No reply at all (timeout, refused) is transient. */
export function smtpDeliveryError(err: SmtpFailure): DeliveryError {
  const code = err.responseCode;
  if (typeof code === 'number') {
    const step = err.command ? ` on ${err.command}` : '';
    return new DeliveryError(`SMTP ${code}${step} (${err.code ?? 'error'})`, code >= 500);
  }
  return new DeliveryError(`SMTP ${err.code ?? 'error'}: ${err.message}`, false);
}
