import { randomUUID } from 'node:crypto';
import { foldLines } from 'nodemailer/lib/mime-funcs';
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

interface Sender {
  header: string;
  address: string;
  domain: string;
}

/** A plain ASCII address, which nodemailer's address encoding leaves as it is (and which is its own envelope). */
const PLAIN_ADDRESS = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[a-z0-9-]+(\.[a-z0-9-]+)*$/;
const SENDER_CACHE_LIMIT = 100;

/**
 * Builds the text + HTML message in one buffer, synchronously. nodemailer's composer streams every MIME part through
 * its own chain of stream stages and hands the socket one write per part; this runs for every message (worker
 * throughput, docs/benchmarks.md "Workers"). Header values are encoded by nodemailer's MimeNode all the same (address
 * and subject encoding, punycode); the sender's, which is the connection's and rarely changes, once per sender.
 */
export class MimeMessageBuilder {
  private readonly encoder = new MimeNode(false);
  private readonly senders = new Map<string, Sender>();

  build(message: EmailMessage, now = new Date()): MimeMessage {
    const sender = this.sender(message.from);
    const to = this.encoder.encodeHeaderValue('To', message.to);
    const envelopeTo = PLAIN_ADDRESS.test(to) ? [to] : new MimeNode(false).setHeader('To', message.to).getEnvelope().to;
    const messageId = `<${randomUUID()}@${sender.domain}>`;
    const boundary = `--_NmP-${randomUUID()}`;
    const raw = [
      foldLines(`From: ${sender.header}`, 76),
      foldLines(`To: ${to}`, 76),
      foldLines(`Subject: ${this.encoder.encodeHeaderValue('Subject', message.subject)}`, 76),
      `Message-ID: ${messageId}`,
      `Date: ${now.toUTCString().replace(/GMT/, '+0000')}`,
      'MIME-Version: 1.0',
      `Content-Type: multipart/alternative; boundary="${boundary}"`,
      '',
      `--${boundary}`,
      part('text/plain', message.text),
      `--${boundary}`,
      part('text/html', message.html),
      `--${boundary}--`,
      '',
    ].join('\r\n');
    return { raw: Buffer.from(raw, 'utf8'), messageId, envelope: { from: sender.address, to: envelopeTo } };
  }

  private sender(from: string): Sender {
    let sender = this.senders.get(from);
    if (!sender) {
      const node = new MimeNode(false).setHeader('From', from);
      const address = node.getEnvelope().from || '';
      sender = {
        header: node.encodeHeaderValue('From', from),
        address,
        domain: address.split('@').pop() || 'localhost',
      };
      if (this.senders.size >= SENDER_CACHE_LIMIT) this.senders.clear();
      this.senders.set(from, sender);
    }
    return sender;
  }
}

function part(contentType: string, content: string): string {
  const body = wrapQuotedPrintable(encodeQuotedPrintable(content.replace(/\r?\n/g, '\r\n')), 76);
  return `Content-Type: ${contentType}; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n${body}`;
}
