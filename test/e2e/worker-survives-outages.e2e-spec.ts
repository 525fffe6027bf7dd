import { Client } from 'pg';
import { recordOf, waitForStatus } from '../utils/delivery-helpers';
import { createClient, uniqueEmail, type TestClient } from '../utils/factories';
import { freePort, RedisProcess, waitFor } from '../utils/redis-process';
import { SmtpSink } from '../utils/smtp-sink';
import { startTestApp, type TestApp } from '../utils/test-app';
import { spawnWorker, type WorkerChild } from '../utils/worker-process';

/**
 * A worker process outlives Postgres dropping every connection (restart, failover, pg_terminate_backend) while its
 * statements are in flight, and a Redis that restarts empty: it keeps running, reports health, and every accepted
 * message is delivered.
 */
describe('Worker process under database and Redis outages', () => {
  let redis: RedisProcess;
  let sink: SmtpSink;
  let t: TestApp;
  let client: TestClient;
  let worker: WorkerChild;
  let healthPort: number;

  beforeAll(async () => {
    redis = await RedisProcess.start();
    sink = await SmtpSink.start();
    const env = {
      REDIS_URL: redis.url,
      WORKER_QUEUES: 'email',
      EMAIL_PROVIDER: 'smtp',
      SMTP_URL: sink.url,
      MIGRATIONS_RUN: 'false',
      LOG_LEVEL: 'warn',
      DELIVERY_BACKOFF_MS: '100',
      DELIVERY_RECONCILE_INTERVAL_MS: '500',
      DELIVERY_RECONCILE_AFTER_MS: '1000',
      OUTBOX_RELAY_INTERVAL_MS: '200',
      // The held success writes must still be waiting when the backends are terminated: on a loaded machine the mails
      // can take longer than the default 5 s statement timeout to arrive, which cancelled them first.
      DATABASE_STATEMENT_TIMEOUT_MS: '60000',
    };
    t = await startTestApp({ env });
    client = await createClient(t.dataSource);
    healthPort = await freePort();
    worker = spawnWorker({ ...env, DATABASE_URL: process.env.DATABASE_URL!, WORKER_HEALTH_PORT: String(healthPort) });
    await waitFor(async () => (await health()) === 200, 20_000, 100);
  });

  afterAll(async () => {
    if (worker.running()) {
      worker.child.kill('SIGKILL');
      await worker.exited;
    }
    await t.close();
    await sink.close();
    await redis.stop();
  });

  const health = async () => (await fetch(`http://127.0.0.1:${healthPort}/health`).catch(() => undefined))?.status;
  const start = async (email: string) => {
    const res = await t.post('/passwordless/start', {
      client_id: client.clientId,
      client_secret: client.secret,
      connection: 'email',
      email,
      send: 'code',
    });
    expect(res.status).toBe(200);
    return res.body._id as string;
  };

  it('should live on and deliver every accepted message when all backends are terminated mid-statement', async () => {
    // Hold the worker's success writes inside Postgres (they insert into delivery_attempts), so that its connections
    // are checked out, with statements running, when the server drops them.
    const locker = new Client({ connectionString: process.env.DATABASE_URL });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE delivery_attempts IN EXCLUSIVE MODE');
    const held = Array.from({ length: 5 }, () => uniqueEmail());
    const heldIds = await Promise.all(held.map(start));
    await Promise.all(held.map((email) => sink.waitFor(email)));
    await waitFor(async () => {
      const { rows } = await locker.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%delivery_attempts%'`,
      );
      return rows[0].n > 0;
    }, 10_000);

    await locker.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    await locker.query('ROLLBACK');
    await locker.end();

    // Redis restarts empty as well: whatever was queued is gone.
    await redis.stop();
    await redis.restart();

    const after = Array.from({ length: 5 }, () => uniqueEmail());
    const afterIds = await Promise.all(after.map(start));
    for (const id of [...heldIds, ...afterIds]) await waitForStatus(t.dataSource, id, 'sent', 30_000);
    for (const email of [...held, ...after]) expect(sink.mails(email).length).toBeGreaterThanOrEqual(1);
    // The messages held at the outage went out before it and are not sent again.
    for (const email of held) expect(sink.mails(email)).toHaveLength(1);
    expect(worker.running()).toBe(true);
    expect(worker.output()).not.toMatch(/Unhandled 'error' event|uncaught/i);
    await waitFor(async () => (await health()) === 200, 10_000, 100);
    for (const id of heldIds) expect((await recordOf(t.dataSource, id)).provider_message_id).toBeTruthy();
  }, 60_000);

  it('should live on when its connections are terminated over and over while messages flow', async () => {
    const killer = new Client({ connectionString: process.env.DATABASE_URL });
    await killer.connect();
    const emails = Array.from({ length: 40 }, () => uniqueEmail());
    let stop = false;
    // Every few milliseconds for two seconds, whatever state each connection is in (idle, checked out, mid-statement).
    const terminating = (async () => {
      const until = Date.now() + 2000;
      while (!stop && Date.now() < until) {
        await killer.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = ''
              AND backend_type = 'client backend'`,
        );
        await new Promise((resolve) => setTimeout(resolve, 3));
      }
    })();
    const ids: string[] = [];
    for (const email of emails) {
      const res = await t
        .post('/passwordless/start', {
          client_id: client.clientId,
          client_secret: client.secret,
          connection: 'email',
          email,
          send: 'code',
        })
        .catch(() => undefined);
      if (res?.status === 200) ids.push(res.body._id as string);
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
    stop = true;
    await terminating;
    await killer.end();
    expect(ids.length).toBeGreaterThan(0);
    for (const id of ids) await waitForStatus(t.dataSource, id, 'sent', 30_000);
    expect(worker.running()).toBe(true);
    expect(worker.output()).not.toMatch(/Unhandled 'error' event|uncaught/i);
  }, 60_000);
});
