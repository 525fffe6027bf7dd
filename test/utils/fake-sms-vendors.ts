import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

type Reply = { status: number; body: unknown };

/** A real HTTP server on a loopback port that records requests and answers through `respond`. */
class HttpStub {
  readonly requests: RecordedRequest[] = [];
  private server!: Server;

  constructor(private readonly respond: (req: RecordedRequest) => Reply) {}

  async listen(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const recorded = {
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        };
        this.requests.push(recorded);
        const reply = this.respond(recorded);
        res.writeHead(reply.status, { 'content-type': 'application/json' }).end(JSON.stringify(reply.body));
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

export interface TwilioMessage {
  sid: string;
  to: string;
  from?: string;
  messagingServiceSid?: string;
  body: string;
}

/**
 * Speaks the part of Twilio's REST API the worker uses: `POST /2010-04-01/Accounts/{sid}/Messages.json` with a form
 * body and Basic auth; 201 with a message `sid`, or Twilio's error JSON `{code, message, status}`. Failures are
 * scripted per destination number: an HTTP status, or a Twilio error code (answered with 400).
 */
export class FakeTwilio {
  readonly messages: TwilioMessage[] = [];
  private readonly scripts = new Map<string, number[]>();
  private readonly stub = new HttpStub((req) => this.handle(req));

  private constructor(
    readonly accountSid: string,
    readonly authToken: string,
  ) {}

  static start(): Promise<FakeTwilio> {
    const twilio = new FakeTwilio(`AC${randomBytes(16).toString('hex')}`, randomBytes(16).toString('hex'));
    return twilio.stub.listen().then(() => twilio);
  }

  get url(): string {
    return this.stub.url;
  }

  /** Next answers for `to`: HTTP statuses (>= 429) or Twilio error codes (>= 20000). Later requests succeed. */
  script(to: string, failures: number[]): void {
    this.scripts.set(to, [...failures]);
  }

  sentTo(to: string): TwilioMessage[] {
    return this.messages.filter((m) => m.to === to);
  }

  requestsTo(to: string): number {
    return this.stub.requests.filter((r) => new URLSearchParams(r.body).get('To') === to).length;
  }

  close(): Promise<void> {
    return this.stub.close();
  }

  private handle(req: RecordedRequest): Reply {
    if (req.method !== 'POST' || req.url !== `/2010-04-01/Accounts/${this.accountSid}/Messages.json`) {
      return { status: 404, body: { code: 20404, message: 'The requested resource was not found', status: 404 } };
    }
    const expected = `Basic ${Buffer.from(`${this.accountSid}:${this.authToken}`).toString('base64')}`;
    if (req.headers.authorization !== expected)
      return { status: 401, body: { code: 20003, message: 'Authenticate', status: 401 } };
    const form = new URLSearchParams(req.body);
    const to = form.get('To') ?? '';
    const failure = this.scripts.get(to)?.shift();
    if (failure !== undefined && failure >= 20000) {
      return {
        status: 400,
        body: { code: failure, message: `The 'To' number ${to} is not a valid phone number.`, status: 400 },
      };
    }
    if (failure !== undefined)
      return { status: failure, body: { code: 20500, message: 'Internal Server Error', status: failure } };
    const message = {
      sid: `SM${randomBytes(16).toString('hex')}`,
      to,
      from: form.get('From') ?? undefined,
      messagingServiceSid: form.get('MessagingServiceSid') ?? undefined,
      body: form.get('Body') ?? '',
    };
    this.messages.push(message);
    return { status: 201, body: { sid: message.sid, status: 'queued', to, body: message.body } };
  }
}

export interface GatewayMessage {
  id: string;
  body: { recipient: string; body: string; sender: string };
  authorization?: string;
}

/** Auth0's legacy custom SMS gateway: JSON `{recipient, body, sender}`; scripted HTTP failures per recipient. */
export class FakeSmsGateway {
  readonly messages: GatewayMessage[] = [];
  private readonly scripts = new Map<string, number[]>();
  private readonly stub = new HttpStub((req) => this.handle(req));

  static start(): Promise<FakeSmsGateway> {
    const gateway = new FakeSmsGateway();
    return gateway.stub.listen().then(() => gateway);
  }

  get url(): string {
    return `${this.stub.url}/sms`;
  }

  script(recipient: string, statuses: number[]): void {
    this.scripts.set(recipient, [...statuses]);
  }

  sentTo(recipient: string): GatewayMessage[] {
    return this.messages.filter((m) => m.body.recipient === recipient);
  }

  requestsTo(recipient: string): number {
    return this.stub.requests.filter((r) => (JSON.parse(r.body) as { recipient?: string }).recipient === recipient)
      .length;
  }

  close(): Promise<void> {
    return this.stub.close();
  }

  private handle(req: RecordedRequest): Reply {
    const body = JSON.parse(req.body) as GatewayMessage['body'];
    const failure = this.scripts.get(body.recipient)?.shift();
    if (req.method !== 'POST' || req.url !== '/sms') return { status: 404, body: { error: 'not found' } };
    if (failure !== undefined) return { status: failure, body: { error: 'failed' } };
    const message = { id: `gw-${randomBytes(8).toString('hex')}`, body, authorization: req.headers.authorization };
    this.messages.push(message);
    return { status: 200, body: { id: message.id } };
  }
}
