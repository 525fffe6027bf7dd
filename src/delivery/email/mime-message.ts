import MimeNode from 'nodemailer/lib/mime-node';
import { encode as encodeQuotedPrintable, wrap as wrapQuotedPrintable } from 'nodemailer/lib/qp';
import type { EmailMessage } from './email.provider';

export interface MimeMessage {
  /** The whole RFC 5322 message (CRLF line ends), ready to go after DATA. */
  raw: Buffer;
  /** The Message-ID header's value, `<…@sender-domain>`. */
  messageId: string;
  /** SMTP envelope: the addresses of From and To (internationalised domains in punycode). */
  envelope: { from: string; to: string[] };
}

/**
 * Builds the text + HTML message in one buffer, synchronously. nodemailer's own composer streams every MIME part
 * through its own chain of stream stages and hands the socket one write per part; this runs for every message, so the
 * root headers (address and subject encoding, Date, Message-ID, boundary) come from nodemailer's MimeNode, and the two
 * parts are quoted-printable text written here (bench/workers.bench.ts, docs/benchmarks.md "Workers").
 */
export function buildMimeMessage(message: EmailMessage): MimeMessage {
  const root = new MimeNode('multipart/alternative', { disableFileAccess: true, disableUrlAccess: true });
  root.setHeader({ From: message.from, To: message.to, Subject: message.subject });
  const headers = root.buildHeaders();
  const delimiter = `--${root.boundary as string}`;
  const raw = [
    headers,
    '',
    delimiter,
    part('text/plain', message.text),
    delimiter,
    part('text/html', message.html),
    `${delimiter}--`,
    '',
  ].join('\r\n');
  const { from, to } = root.getEnvelope();
  return { raw: Buffer.from(raw, 'utf8'), messageId: root.messageId(), envelope: { from: from || '', to } };
}

function part(contentType: string, content: string): string {
  const body = wrapQuotedPrintable(encodeQuotedPrintable(content.replace(/\r?\n/g, '\r\n')), 76);
  return `Content-Type: ${contentType}; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n${body}`;
}
