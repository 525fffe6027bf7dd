import 'reflect-metadata';
import { Queue } from 'bullmq';
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { hashClientSecret } from '../src/clients/client-secret';
import { loadConfig, type AppConfig } from '../src/config/app-config';
import { dataSourceOptions } from '../src/database/data-source-options';
import { ensureDatabaseExists, runMigrationsLocked } from '../src/database/migration-runner';
import { jobIdFor, JobName, QueueName } from '../src/delivery/delivery.constants';
import { createHttpApp } from '../src/http-app';
import { SecretBox } from '../src/verification/secret-box';
import { SecretHasher } from '../src/verification/secret-hasher';
import globalTeardown from '../test/setup/global-teardown';
import { newRunEnvironment } from '../test/setup/test-env';
import { freePort, waitFor } from '../test/utils/redis-process';
import { SmtpSink } from '../test/utils/smtp-sink';
import { spawnBuilt, type WorkerChild } from '../test/utils/worker-process';
import { machineBusyMs, pidsNamed, redisServerPid, spentBetween, usageOf } from './proc-usage';

/**
 * `npm run bench:workers -- [--jobs 5000] [--workers 2] [--latency 200]`
 * 1. Unloaded latency: sequential POST /passwordless/start (API in this process) → worker → SMTP sink (the tests' smtp-server sink); p50/p99.
 * 2. Throughput: N records and jobs queued while the queue is paused, then drained by K worker processes
 *    (dist/src/worker.js) into a local SMTP sink; messages/s and enqueue→received p50/p99.
 * Uses its own database and Redis prefix, removed at the end. Worker env overrides (WORKER_*, SMTP_POOL_SIZE,
 * DATABASE_POOL_SIZE) pass through; BENCH_WORKER_NODE_ARGS (e.g. `--prof`) is given to the worker processes.
 */
const args = Object.fromEntries(
  process.argv
    .slice(2)
    .join(' ')
    .split('--')
    .filter(Boolean)
    .map((a) => a.trim().split(/\s+/)),
) as Record<string, string>;
const JOBS = Number(args.jobs ?? 5000);
const WORKERS = Number(args.workers ?? 2);
const LATENCY_SAMPLES = Number(args.latency ?? 200);
const BUILD = join(__dirname, '..');

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

async function main(): Promise<void> {
  // A throwaway database and Redis prefix, like a test run (and removed the same way at the end).
  const env: Record<string, string> = {
    ...newRunEnvironment(),
    LOG_LEVEL: 'warn',
    ISSUER_BASE_URL: 'https://bench.example.com/',
    RATE_LIMIT_START_PER_IP: '1000000',
    DATABASE_POOL_SIZE: '10',
    WORKER_QUEUES: 'email',
    EMAIL_PROVIDER: 'smtp',
    MIGRATIONS_RUN: 'false',
  };
  const runId = env.REDIS_PREFIX;
  // The tests' SMTP sink, without parsing messages: the bench counts arrivals, not contents.
  const sink = await SmtpSink.start({ parse: false });
  env.SMTP_URL = sink.url;
  // The in-process API reads process.env through its ConfigModule.
  Object.assign(process.env, env);
  const config = loadConfig();
  await ensureDatabaseExists(config.databaseUrl);
  const dataSource = await new DataSource(dataSourceOptions(config)).initialize();
  await runMigrationsLocked(dataSource);
  const clientId = `bench${runId}`;
  const secret = randomBytes(16).toString('hex');
  await dataSource.query(
    `INSERT INTO clients (client_id, name, app_type, token_endpoint_auth_method, client_secret_hash, callbacks, grant_types, connections)
     VALUES ($1, 'Bench', 'regular_web', 'client_secret_post', $2, '["https://app.example.com/cb"]', '["http://auth0.com/oauth/grant-type/passwordless/otp"]', '["email"]')`,
    [clientId, hashClientSecret(secret)],
  );

  const received = new Map<string, number>();
  sink.onReceived = (mail) => mail.to.forEach((recipient) => received.set(recipient, mail.receivedAt));
  const workers: WorkerChild[] = [];
  const queue = new Queue(QueueName.Email, { connection: { url: config.redis.url }, prefix: config.redis.prefix });
  const app = await createHttpApp(config);
  try {
    for (let i = 0; i < WORKERS; i++) {
      const port = await freePort();
      const nodeArgs = process.env.BENCH_WORKER_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
      const worker = spawnBuilt(
        BUILD,
        'worker.js',
        {
          ...env,
          WORKER_HEALTH_PORT: String(port),
          // The first worker also runs the outbox relay (the API process only commits and notifies).
          WORKER_RUN_RELAY: String(i === 0),
          ...pick(process.env, /^(WORKER_|SMTP_POOL|DATABASE_POOL)/),
        },
        nodeArgs,
      );
      workers.push(worker);
      await waitFor(
        async () => (await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined))?.status === 200,
        20_000,
        100,
      );
    }
    await app.listen(0, '127.0.0.1');
    const baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;

    // 1. Unloaded start → inbox latency.
    const latencies: number[] = [];
    for (let i = 0; i < LATENCY_SAMPLES; i++) {
      const email = `lat-${i}-${runId}@example.com`;
      const started = Date.now();
      const res = await fetch(`${baseUrl}/passwordless/start`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_id: clientId, client_secret: secret, connection: 'email', email, send: 'code' }),
      });
      if (res.status !== 200) throw new Error(`start answered ${res.status}: ${await res.text()}`);
      await waitFor(() => Promise.resolve(received.has(email)), 10_000, 1);
      latencies.push(received.get(email)! - started);
    }
    console.log(
      `load average at start: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')} on ${cpus().length} cores`,
    );
    console.log(
      `unloaded start→inbox (${LATENCY_SAMPLES} sequential starts, ${WORKERS} workers): p50 ${fmt(percentile(latencies, 50))}, p99 ${fmt(percentile(latencies, 99))}`,
    );

    // 2. Throughput: N records + jobs queued while paused, then drained.
    const emails = await insertRecords(dataSource, config, clientId, runId, JOBS);
    // A table that grew by N rows in an instant: autovacuum would analyze it within a minute; the drain is shorter.
    // Without current statistics Postgres may keep a plan made while the table was nearly empty (a sequential scan).
    await dataSource.query('ANALYZE verifications');
    await queue.pause();
    const box = new SecretBox(config);
    const enqueuedAt = Date.now();
    for (let i = 0; i < emails.length; i += 1000) {
      const batch = emails.slice(i, i + 1000).map(({ id }) => ({
        name: JobName.DeliverVerification,
        data: { verificationId: id, sealedSecret: box.seal(id, { code: '000000' }) },
        opts: {
          jobId: jobIdFor(id),
          attempts: 5,
          backoff: { type: 'exponential', delay: 1000, jitter: 0.5 },
          removeOnComplete: true,
          removeOnFail: false,
        },
      }));
      await queue.addBulk(batch);
    }
    const redisPid = await redisServerPid(config.redis.url);
    // Postgres is listed again at the end: backends the workers' pools open during the drain count too.
    const sampled = {
      workers: () => workers.map((w) => w.child.pid!),
      postgres: () => pidsNamed('postgres'),
      redis: () => [redisPid],
      bench: () => [process.pid],
    };
    const before = usageOf(sampled);
    const busyBefore = machineBusyMs();
    const resumedAt = Date.now();
    await queue.resume();
    await waitFor(() => Promise.resolve(emails.every((e) => received.has(e.email))), 300_000, 20);
    const last = Math.max(...emails.map((e) => received.get(e.email)!));
    const after = usageOf(sampled);
    const busy = machineBusyMs() - busyBefore;
    const spent = (group: keyof typeof sampled, what: 'cpu' | 'calls') => spentBetween(before, after, group, what);
    const perEmail = (group: keyof typeof sampled) =>
      `${(spent(group, 'cpu') / JOBS).toFixed(2)} ms (${(spent(group, 'calls') / JOBS).toFixed(1)} read/write calls)`;
    const workerCpu = spent('workers', 'cpu');
    const drainSeconds = (last - resumedAt) / 1000;
    const queued = emails.map((e) => received.get(e.email)! - enqueuedAt);
    console.log(
      `throughput: ${JOBS} emails drained by ${WORKERS} worker processes in ${drainSeconds.toFixed(2)} s = ${(JOBS / drainSeconds).toFixed(0)} emails/s`,
    );
    console.log(
      `  worker CPU per email: ${(workerCpu / JOBS).toFixed(2)} ms (user+sys of the worker processes; ${(spent('workers', 'calls') / JOBS).toFixed(1)} read/write calls)`,
    );
    console.log(
      `  CPU per email elsewhere: postgres ${perEmail('postgres')}, redis ${perEmail('redis')}, bench process (SMTP sink, API, loop) ${perEmail('bench')}`,
    );
    const ours = (Object.keys(sampled) as Array<keyof typeof sampled>).reduce(
      (sum, group) => sum + spent(group, 'cpu'),
      0,
    );
    console.log(
      `  machine: ${(busy / JOBS).toFixed(2)} ms busy per email, of which ${((busy - ours) / JOBS).toFixed(2)} ms in other processes and the kernel`,
    );
    console.log(
      `  enqueue→inbox under that backlog: p50 ${fmt(percentile(queued, 50))}, p99 ${fmt(percentile(queued, 99))}`,
    );
    const [{ sent }]: Array<{ sent: string }> = await dataSource.query(
      "SELECT count(*) AS sent FROM verifications WHERE delivery_status = 'sent'",
    );
    console.log(`  records marked sent: ${sent} of ${JOBS + LATENCY_SAMPLES}; mails received: ${received.size}`);
  } finally {
    for (const w of workers) w.child.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.exited));
    await app.close();
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    await dataSource.destroy();
    await sink.close();
    await globalTeardown();
  }
}

async function insertRecords(
  dataSource: DataSource,
  config: AppConfig,
  clientId: string,
  runId: string,
  count: number,
) {
  const hasher = new SecretHasher(config);
  const rows = Array.from({ length: count }, (_, i) => {
    const id = randomBytes(12).toString('hex');
    return { id, email: `bench-${i}-${runId}@example.com`, hmac: hasher.hash(id, 'code', '000000') };
  });
  for (let i = 0; i < rows.length; i += 1000) {
    const batch = rows.slice(i, i + 1000);
    await dataSource.query(
      `INSERT INTO verifications (id, client_id, connection, identifier, send, code_hmac, expires_at, delivery_status)
       SELECT id, $1, 'email', email, 'code', hmac, now() + interval '1 hour', 'queued'
         FROM unnest($2::text[], $3::text[], $4::text[]) AS t(id, email, hmac)`,
      [clientId, batch.map((r) => r.id), batch.map((r) => r.email), batch.map((r) => r.hmac)],
    );
  }
  return rows;
}

function pick(source: NodeJS.ProcessEnv, pattern: RegExp): Record<string, string> {
  return Object.fromEntries(
    Object.entries(source).filter((e): e is [string, string] => pattern.test(e[0]) && e[1] !== undefined),
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
