import type { OnApplicationShutdown } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { createTransport } from 'nodemailer';
import { toBool, toInt } from '../../config/env-transforms';
import { deliveryProvider } from '../delivery-provider';
import type { SendResult } from '../worker/delivery-channel';
import { DeliveryError } from '../worker/delivery-error';
import type { EmailMessage, EmailProvider } from './email.provider';

class SmtpVars {
  @IsOptional() @Matches(/^smtps?:\/\//, { message: 'an smtp:// or smtps:// URL' }) SMTP_URL?: string;
  // Half the default email concurrency: a worker then keeps enough sessions open that its jobs rarely wait for one.
  @Transform(toInt) @IsInt() @Min(1) @Max(100) SMTP_POOL_SIZE = 10;
  @Transform(toBool) @IsBoolean() SMTP_TLS_REJECT_UNAUTHORIZED = true;
  @Transform(toBool) @IsBoolean() SMTP_REQUIRE_TLS = false;
}

export interface SmtpSettings {
  url: string;
  poolSize: number;
  tlsRejectUnauthorized: boolean;
  requireTls: boolean;
}

/** nodemailer over pooled SMTP connections (SMTP_URL, SMTP_POOL_SIZE, TLS options). */
export class SmtpEmailProvider implements EmailProvider, OnApplicationShutdown {
  readonly name = 'smtp';
  private readonly transport;

  constructor(smtp: SmtpSettings, timeout: number) {
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

export const smtpEmail = deliveryProvider({
  name: 'smtp',
  vars: SmtpVars,
  problems: (vars) => (vars.SMTP_URL ? [] : ['SMTP_URL (required with EMAIL_PROVIDER=smtp)']),
  create: (vars, config) =>
    new SmtpEmailProvider(
      {
        url: vars.SMTP_URL ?? '',
        poolSize: vars.SMTP_POOL_SIZE,
        tlsRejectUnauthorized: vars.SMTP_TLS_REJECT_UNAUTHORIZED,
        requireTls: vars.SMTP_REQUIRE_TLS,
      },
      config.deliveryTimeoutMs,
    ),
});

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
