import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SmtpSink, type ReceivedMail } from '../test/utils/smtp-sink';
import type { BenchEnvironment } from './bench-environment';
import { pidsNamed, spentBetween, usageOf } from './proc-usage';
import { freePort, type ServerProcess } from './server-process';

const READY_TIMEOUT_MS = 60_000;
const MAIL_TIMEOUT_MS = 30_000;
const OTP_GRANT = 'http://auth0.com/oauth/grant-type/passwordless/otp';
/** The code in the default email template's text part (at the end of its line: the client's name may hold digits). */
const CODE_IN_TEXT = / is: (\d{6})$/m;

/** The processes a login runs through, for CPU per login. */
export const LOGIN_PARTS = ['api', 'relay', 'worker', 'postgres', 'redis', 'load'] as const;
export type LoginPart = (typeof LOGIN_PARTS)[number];

export interface LoginMeasurement {
  completed: number;
  failed: number;
  /** Why counted logins failed: the first line of each distinct reason, with how often it happened. */
  failures: Record<string, number>;
  loginsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU ms per completed login, per process group. */
  cpuMsPerLogin: Record<LoginPart, number>;
}

/**
 * The delivery half of a login on one box: an email worker process sending over SMTP into a sink in this process,
 * which hands each message to the login waiting for it.
 */
export class LoginRig {
  private readonly waiting = new Map<string, (mail: ReceivedMail) => void>();

  private constructor(
    private readonly sink: SmtpSink,
    private readonly worker: ChildProcess,
  ) {
    sink.onReceived = (mail) => mail.to.forEach((recipient) => this.waiting.get(recipient)?.(mail));
  }

  static async start(env: BenchEnvironment, distRoot: string, workerEnv: NodeJS.ProcessEnv = {}): Promise<LoginRig> {
    const sink = await SmtpSink.start({ parse: true });
    const healthPort = await freePort();
    const worker = spawn(process.execPath, [join(distRoot, 'src/worker.js')], {
      env: {
        ...env.env,
        PATH: process.env.PATH ?? '',
        WORKER_QUEUES: 'email',
        EMAIL_PROVIDER: 'smtp',
        SMTP_URL: sink.url,
        WORKER_HEALTH_PORT: String(healthPort),
        ...workerEnv,
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!(await fetch(`http://127.0.0.1:${healthPort}/health`).catch(() => undefined))?.ok) {
      if (Date.now() > deadline || worker.exitCode !== null) throw new Error('the email worker did not become healthy');
      await sleep(100);
    }
    return new LoginRig(sink, worker);
  }

  get workerPid(): number {
    return this.worker.pid!;
  }

  /** The next message to `recipient` (lower-case), registered before the start that sends it. */
  nextMail(recipient: string): Promise<ReceivedMail> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(recipient);
        reject(new Error(`no mail to ${recipient} within ${MAIL_TIMEOUT_MS} ms`));
      }, MAIL_TIMEOUT_MS);
      this.waiting.set(recipient, (mail) => {
        clearTimeout(timer);
        this.waiting.delete(recipient);
        resolve(mail);
      });
    });
  }

  async stop(): Promise<void> {
    this.worker.kill('SIGTERM');
    await Promise.race([new Promise((resolve) => this.worker.once('exit', resolve)), sleep(10_000)]);
    await this.sink.close();
  }
}

/**
 * `connections` users logging in back to back for `seconds` (after `warmupSeconds` unmeasured): start by email →
 * the worker delivers → the code read from the received message → the OTP exchange. A login counts once it has tokens.
 */
export async function measureLogins(
  env: BenchEnvironment,
  service: ServerProcess,
  rig: LoginRig,
  redisPid: number,
  options: { connections: number; seconds: number; warmupSeconds: number },
): Promise<LoginMeasurement> {
  const client = env.secretClient;
  const run = Date.now().toString(36);
  let counter = 0;
  const post = (path: string, body: object) =>
    fetch(`${service.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  const login = async (): Promise<void> => {
    const email = `login.${run}.${counter++}@bench.example.com`;
    const mail = rig.nextMail(email);
    const start = await post('/passwordless/start', {
      client_id: client.clientId,
      client_secret: client.secret,
      connection: 'email',
      email,
      send: 'code',
    });
    if (start.status !== 200) throw new Error(`start answered ${start.status} ${await start.text()}`);
    const text = (await mail).text ?? '';
    const code = CODE_IN_TEXT.exec(text)?.[1];
    if (!code) throw new Error(`no code in the message: ${text.slice(0, 200)}`);
    const token = await post('/oauth/token', {
      grant_type: OTP_GRANT,
      client_id: client.clientId,
      client_secret: client.secret,
      username: email,
      otp: code,
      realm: 'email',
      scope: 'openid profile email',
    });
    if (token.status !== 200) throw new Error(`token answered ${token.status} ${await token.text()}`);
    await token.arrayBuffer();
  };

  const latencies: number[] = [];
  let failed = 0;
  const failures: Record<string, number> = {};
  let measuring = false;
  const measuredUntil = performance.now() + (options.warmupSeconds + options.seconds) * 1000;
  const loop = async () => {
    while (performance.now() < measuredUntil) {
      const startedAt = performance.now();
      const counted = measuring;
      try {
        await login();
        if (counted) latencies.push(performance.now() - startedAt);
      } catch (err) {
        if (!counted) continue;
        failed++;
        const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0];
        failures[reason] = (failures[reason] ?? 0) + 1;
      }
    }
  };
  const loops = Array.from({ length: options.connections }, loop);
  await sleep(options.warmupSeconds * 1000);

  const groups: Record<LoginPart, () => number[]> = {
    api: () => [service.pid],
    relay: () => service.pids.filter((pid) => pid !== service.pid),
    worker: () => [rig.workerPid],
    postgres: () => pidsNamed('postgres'),
    redis: () => [redisPid],
    load: () => [process.pid],
  };
  measuring = true;
  const before = usageOf(groups);
  const startedAt = performance.now();
  await Promise.all(loops);
  const elapsedSeconds = (performance.now() - startedAt) / 1000;
  const after = usageOf(groups);

  const completed = latencies.length;
  const sorted = [...latencies].sort((a, b) => a - b);
  const quantile = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  const cpuMsPerLogin = Object.fromEntries(
    LOGIN_PARTS.map((part) => [part, spentBetween(before, after, part, 'cpu') / Math.max(1, completed)]),
  ) as Record<LoginPart, number>;
  return {
    completed,
    failed,
    failures,
    loginsPerSecond: completed / elapsedSeconds,
    p50Ms: quantile(0.5),
    p99Ms: quantile(0.99),
    cpuMsPerLogin,
  };
}
