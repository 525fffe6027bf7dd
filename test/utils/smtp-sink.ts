import { simpleParser } from 'mailparser';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { waitFor } from './redis-process';

export interface ReceivedMail {
  /** Envelope recipients (lower-cased). */
  to: string[];
  receivedAt: number;
  from?: string;
  subject?: string;
  text?: string;
  html?: string;
  messageId?: string;
  headers?: Map<string, unknown>;
}

interface Hold {
  reached: () => void;
  /** Resolves with whether the held message is then accepted (250) or dropped (as if the connection died). */
  released: Promise<boolean>;
}

/**
 * A real SMTP server on a loopback port (smtp-server), standing in for the mail provider. Replies can be scripted per
 * recipient (e.g. 421 twice, then accept) and a recipient's DATA can be held open to simulate a slow or stuck send.
 * A message counts as received only once it was acknowledged with 250, as for a real MTA.
 */
export class SmtpSink {
  private readonly received: ReceivedMail[] = [];
  private readonly scripts = new Map<string, number[]>();
  private readonly holds = new Map<string, Hold>();
  private readonly server: SMTPServer;

  private constructor(
    private readonly parse: boolean,
    private readonly delayMs: number,
  ) {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      size: 1024 * 1024,
      onRcptTo: (address, _session, callback) => {
        const reply = this.scripts.get(address.address.toLowerCase())?.shift();
        if (reply === undefined || reply < 400) return callback();
        callback(
          Object.assign(new Error(reply >= 500 ? 'Recipient address rejected' : 'Try again later'), {
            responseCode: reply,
          }),
        );
      },
      onData: (stream, session, callback) => {
        this.accept(stream, session).then(
          () => callback(),
          (err: Error) => callback(err),
        );
      },
    });
  }

  /** `delayMs`: answer each message's DATA that much later, as a slow provider does. */
  static async start(options: { parse?: boolean; delayMs?: number } = {}): Promise<SmtpSink> {
    const sink = new SmtpSink(options.parse ?? true, options.delayMs ?? 0);
    await new Promise<void>((resolve) => sink.server.listen(0, '127.0.0.1', resolve));
    return sink;
  }

  get url(): string {
    return `smtp://127.0.0.1:${(this.server.server.address() as AddressInfo).port}`;
  }

  /** The next RCPT TO replies for `recipient`, in order (e.g. `[421, 421]`); later attempts are accepted. */
  script(recipient: string, replies: number[]): void {
    this.scripts.set(recipient.toLowerCase(), [...replies]);
  }

  /**
   * Holds the DATA reply for `recipient` until `release()`; `reached` resolves when a send is in flight. Releasing
   * with `accept: false` drops the message unacknowledged, as when the sender died mid-transfer.
   */
  hold(recipient: string): { reached: Promise<void>; release: (options?: { accept: boolean }) => void } {
    let release!: (accept: boolean) => void;
    let reached!: () => void;
    const reachedPromise = new Promise<void>((resolve) => (reached = resolve));
    const released = new Promise<boolean>((resolve) => (release = resolve));
    this.holds.set(recipient.toLowerCase(), { reached, released });
    return {
      reached: reachedPromise,
      release: (options = { accept: true }) => {
        this.holds.delete(recipient.toLowerCase());
        release(options.accept);
      },
    };
  }

  mails(recipient?: string): ReceivedMail[] {
    return recipient ? this.received.filter((m) => m.to.includes(recipient.toLowerCase())) : [...this.received];
  }

  async waitFor(recipient: string, count = 1, timeoutMs = 10_000): Promise<ReceivedMail[]> {
    await waitFor(async () => Promise.resolve(this.mails(recipient).length >= count), timeoutMs, 10);
    return this.mails(recipient);
  }

  onReceived?: (mail: ReceivedMail) => void;

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async accept(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    const to = session.envelope.rcptTo.map((r) => r.address.toLowerCase());
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    const hold = to.map((r) => this.holds.get(r)).find(Boolean);
    if (hold) {
      hold.reached();
      if (!(await hold.released)) throw Object.assign(new Error('Dropped'), { responseCode: 421 });
    }
    const mail: ReceivedMail = { to, receivedAt: Date.now() };
    if (this.parse) {
      const parsed = await simpleParser(Buffer.concat(chunks));
      Object.assign(mail, {
        from: parsed.from?.text,
        subject: parsed.subject,
        text: parsed.text,
        html: typeof parsed.html === 'string' ? parsed.html : undefined,
        messageId: parsed.messageId,
        headers: parsed.headers,
      });
    }
    this.received.push(mail);
    this.onReceived?.(mail);
  }
}
