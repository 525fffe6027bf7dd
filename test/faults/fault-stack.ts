import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { hashClientSecret } from '../../src/clients/client-secret';
import { PostgresProcess } from '../utils/postgres-process';
import { freePort, RedisProcess, waitFor } from '../utils/redis-process';
import { SmtpSink } from '../utils/smtp-sink';
import { spawnRole, type RoleChild } from '../utils/worker-process';

export interface StackOptions {
  /** How long the SMTP server takes to accept each message (a slow provider). */
  smtpDelayMs?: number;
  workers?: number;
  workerConcurrency?: number;
  /** Redis with AOF persistence (appendfsync everysec), as docker-compose runs it. */
  redisAof?: boolean;
  env?: Record<string, string>;
}

export interface StartOutcome {
  email: string;
  status: number;
  startedAt: number;
  answeredAt: number;
}

export interface FaultRow {
  fault: string;
  requests: number;
  accepted: number;
  refused: Record<string, number>;
  delivered: number;
  lost: number;
  duplicates: number;
  /** Slowest start-to-inbox time among delivered messages. */
  maxDeliveryMs: number;
  /** Slowest answer of the API (accepted or not). */
  maxAnswerMs: number;
}

const HEALTH_TIMEOUT_MS = 60_000;

/**
 * The whole service as separate processes (API, relay, email workers) on a private Postgres cluster and a private
 * Redis, delivering into an in-process SMTP server, so that a fault test can kill, pause or restart any part.
 */
export class FaultStack {
  readonly workers: RoleChild[] = [];
  api!: RoleChild;
  relay!: RoleChild;
  private clientId = `fault${randomBytes(4).toString('hex')}`;
  private secret = randomBytes(16).toString('hex');
  private env!: Record<string, string>;
  private apiPort = 0;
  private readonly workerPorts: number[] = [];

  private constructor(
    readonly pg: PostgresProcess,
    readonly redis: RedisProcess,
    readonly sink: SmtpSink,
    private readonly options: StackOptions,
    private readonly aofDir?: string,
  ) {}

  static async start(options: StackOptions = {}): Promise<FaultStack> {
    const aofDir = options.redisAof ? mkdtempSync(join(tmpdir(), 'pwl-aof-')) : undefined;
    const [pg, redis, sink] = await Promise.all([
      PostgresProcess.start(),
      RedisProcess.start({ appendOnlyDir: aofDir }),
      SmtpSink.start({ parse: false, delayMs: options.smtpDelayMs ?? 0 }),
    ]);
    const stack = new FaultStack(pg, redis, sink, options, aofDir);
    try {
      await stack.boot();
    } catch (err) {
      await stack.destroy();
      throw err;
    }
    return stack;
  }

  private async boot(): Promise<void> {
    this.apiPort = await freePort();
    this.env = {
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      DATABASE_URL: this.pg.url('passwordless'),
      REDIS_URL: this.redis.url,
      REDIS_PREFIX: 'pwlfault',
      ISSUER_BASE_URL: `http://127.0.0.1:${this.apiPort}/`,
      CODE_HASH_SECRET: randomBytes(32).toString('hex'),
      CODE_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      EMAIL_PROVIDER: 'smtp',
      SMTP_URL: this.sink.url,
      WORKER_QUEUES: 'email',
      WORKER_EMAIL_CONCURRENCY: String(this.options.workerConcurrency ?? 20),
      RATE_LIMIT_START_PER_IP: '1000000',
      RATE_LIMIT_START_PER_IDENTIFIER: '1000000',
      RATE_LIMIT_START_IDENTIFIER_COOLDOWN_MS: '0',
      RATE_LIMIT_START_PER_CLIENT: '1000000',
      OUTBOX_RELAY_INTERVAL_MS: '500',
      DELIVERY_RECONCILE_INTERVAL_MS: '1000',
      DELIVERY_RECONCILE_AFTER_MS: '3000',
      DELIVERY_BACKOFF_MS: '200',
      DATABASE_STATEMENT_TIMEOUT_MS: '2000',
      DATABASE_CONNECT_TIMEOUT_MS: '2000',
      ...this.options.env,
    };
    await this.startApi();
    const db = new Client({ connectionString: this.env.DATABASE_URL });
    await db.connect();
    await db.query(
      `INSERT INTO clients (client_id, name, app_type, token_endpoint_auth_method, client_secret_hash, callbacks,
                            grant_types, connections)
       VALUES ($1, 'Faults', 'regular_web', 'client_secret_post', $2, '["https://app.example.com/cb"]',
               '["http://auth0.com/oauth/grant-type/passwordless/otp"]', '["email"]')`,
      [this.clientId, hashClientSecret(this.secret)],
    );
    await db.end();
    await this.startRelay();
    for (let i = 0; i < (this.options.workers ?? 2); i++) this.workerPorts.push(await freePort());
    await Promise.all(this.workerPorts.map((_, i) => this.startWorker(i)));
  }

  async startApi(): Promise<void> {
    this.api = spawnRole('main.ts', { ...this.env, PORT: String(this.apiPort), HOST: '127.0.0.1' });
    await this.healthy(this.apiPort, this.api);
  }

  async startRelay(): Promise<void> {
    const port = await freePort();
    this.relay = spawnRole('relay.ts', { ...this.env, MIGRATIONS_RUN: 'false', RELAY_HEALTH_PORT: String(port) });
    await this.healthy(port, this.relay);
  }

  async startWorker(i: number): Promise<void> {
    const port = this.workerPorts[i];
    this.workers[i] = spawnRole('worker.ts', {
      ...this.env,
      MIGRATIONS_RUN: 'false',
      WORKER_HEALTH_PORT: String(port),
    });
    await this.healthy(port, this.workers[i]);
  }

  /** Whether every worker process still runs (none crashed). */
  get workersAlive(): boolean {
    return this.workers.every((w) => w.running());
  }

  async kill(child: RoleChild): Promise<void> {
    if (!child.running()) return;
    child.child.kill('SIGKILL');
    await child.exited;
  }

  /**
   * Sends `rate` starts per second (each to a new address) for `seconds`, running `fault` at `faultAtSeconds`; every
   * request's outcome is kept (status 0: no answer within 20 s, or the connection failed).
   */
  async drive(rate: number, seconds: number, fault?: { atSeconds: number; run: () => Promise<void> }) {
    const outcomes: StartOutcome[] = [];
    const pending: Array<Promise<void>> = [];
    const startedAt = Date.now();
    const faultDone = fault
      ? new Promise<void>((resolve, reject) => {
          setTimeout(() => void fault.run().then(resolve, reject), fault.atSeconds * 1000);
        })
      : Promise.resolve();
    for (let n = 0; n < rate * seconds; n++) {
      const due = startedAt + (n * 1000) / rate;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      pending.push(this.startOne().then((o) => void outcomes.push(o)));
    }
    await Promise.all(pending);
    await faultDone;
    return outcomes;
  }

  private async startOne(): Promise<StartOutcome> {
    const email = `f.${randomBytes(6).toString('hex')}@example.com`;
    const startedAt = Date.now();
    let status = 0;
    try {
      const res = await fetch(`http://127.0.0.1:${this.apiPort}/passwordless/start`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          client_id: this.clientId,
          client_secret: this.secret,
          connection: 'email',
          email,
          send: 'code',
        }),
        signal: AbortSignal.timeout(20_000),
      });
      status = res.status;
      await res.arrayBuffer();
    } catch {
      status = 0;
    }
    return { email, status, startedAt, answeredAt: Date.now() };
  }

  /** Waits until every accepted start's message arrived (or `timeoutMs` passed), then counts. */
  async settle(fault: string, outcomes: StartOutcome[], timeoutMs: number): Promise<FaultRow> {
    const accepted = outcomes.filter((o) => o.status === 200);
    const arrived = () => accepted.filter((o) => this.sink.mails(o.email).length > 0).length;
    await waitFor(async () => Promise.resolve(arrived() === accepted.length), timeoutMs, 250).catch(() => undefined);
    // Give late duplicates (redelivery of a job that was in flight at a crash) a moment to show.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const refused: Record<string, number> = {};
    for (const o of outcomes) if (o.status !== 200) refused[o.status] = (refused[o.status] ?? 0) + 1;
    let duplicates = 0;
    let maxDeliveryMs = 0;
    for (const o of accepted) {
      const mails = this.sink.mails(o.email);
      duplicates += Math.max(0, mails.length - 1);
      if (mails[0]) maxDeliveryMs = Math.max(maxDeliveryMs, mails[0].receivedAt - o.startedAt);
    }
    const delivered = arrived();
    return {
      fault,
      requests: outcomes.length,
      accepted: accepted.length,
      refused,
      delivered,
      lost: accepted.length - delivered,
      duplicates,
      maxDeliveryMs,
      maxAnswerMs: Math.max(...outcomes.map((o) => o.answeredAt - o.startedAt)),
    };
  }

  async destroy(): Promise<void> {
    for (const child of [this.api, this.relay, ...this.workers]) if (child) await this.kill(child);
    await this.sink.close();
    await this.redis.stop();
    this.pg.destroy();
    if (this.aofDir) rmSync(this.aofDir, { recursive: true, force: true });
  }

  private async healthy(port: number, child: RoleChild): Promise<void> {
    await waitFor(
      async () => {
        if (!child.running()) throw new Error(`process exited during start-up:\n${child.output()}`);
        return (await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined))?.status === 200;
      },
      HEALTH_TIMEOUT_MS,
      100,
    );
  }
}

/** The table of rows, as the issue reports it. */
export function faultTable(rows: FaultRow[]): string {
  const lines = [
    '| fault | requests | 200s | refused | delivered | lost | duplicates | slowest delivery | slowest answer |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.fault} | ${r.requests} | ${r.accepted} | ${JSON.stringify(r.refused)} | ${r.delivered} | ${r.lost} | ` +
        `${r.duplicates} | ${(r.maxDeliveryMs / 1000).toFixed(1)} s | ${(r.maxAnswerMs / 1000).toFixed(1)} s |`,
    ),
  ];
  return lines.join('\n');
}
