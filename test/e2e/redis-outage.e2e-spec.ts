import { setTimeout as sleep } from 'node:timers/promises';
import { QueueName } from '../../src/delivery/delivery.constants';
import { createClient, signAssertion, uniqueEmail, uniquePhone, type TestClient } from '../utils/factories';
import { QueueInspector } from '../utils/queue-inspector';
import { RedisProcess, waitFor } from '../utils/redis-process';
import { startTestApp, type TestApp } from '../utils/test-app';

describe('POST /passwordless/start while Redis is down', () => {
  let redis: RedisProcess;
  let t: TestApp;
  let client: TestClient;

  beforeAll(async () => {
    redis = await RedisProcess.start();
    t = await startTestApp({
      env: { REDIS_URL: redis.url, OUTBOX_RELAY_INTERVAL_MS: '100', ENQUEUE_TIMEOUT_MS: '300' },
    });
    client = await createClient(t.dataSource);
  });

  afterEach(() => redis.ensureRunning());

  afterAll(async () => {
    await t.close();
    await redis.stop();
  });

  const emailStart = (email = uniqueEmail()) =>
    t.post('/passwordless/start', {
      client_id: client.clientId,
      client_secret: client.secret,
      connection: 'email',
      email,
      send: 'code',
    });
  /** The record's job on the email queue, read through a connection made after Redis is back (waits as QueueInspector.job). */
  const emailJob = async (id: string, timeoutMs?: number) => {
    const inspector = new QueueInspector(t.config);
    try {
      return await inspector.job(QueueName.Email, id, timeoutMs);
    } finally {
      await inspector.close();
    }
  };
  /** Stops Redis, then starts: the answer must still be 200 (the outbox holds the job). Returns the record id. */
  const emailStartWhileRedisDown = async () => {
    await redis.stop();
    const res = await emailStart();
    expect(res.status).toBe(200);
    return res.body._id as string;
  };

  it('should still answer 200 and end in a queued job once Redis returns (transactional outbox)', async () => {
    const id = await emailStartWhileRedisDown();
    const outboxRows = () =>
      t.dataSource.query('SELECT relay_attempts FROM delivery_outbox WHERE verification_id = $1', [id]);
    expect(await outboxRows()).toHaveLength(1);

    await redis.restart();
    await waitFor(async () => (await outboxRows()).length === 0, 15000);

    expect((await emailJob(id))?.data.verificationId).toBe(id);
    const [row] = await t.dataSource.query('SELECT delivery_status FROM verifications WHERE id = $1', [id]);
    expect(row.delivery_status).toBe('pending');
  });

  it('should queue only the latest of two starts made while Redis was down (the superseded row is dropped)', async () => {
    await redis.stop();
    const email = uniqueEmail();
    const first = await emailStart(email);
    const second = await emailStart(email);
    expect([first.status, second.status]).toEqual([200, 200]);
    const ids = [first.body._id as string, second.body._id as string];
    const outboxRows = async () => {
      const rows = await t.dataSource.query<Array<{ verification_id: string }>>(
        'SELECT verification_id FROM delivery_outbox WHERE verification_id = ANY($1)',
        [ids],
      );
      return rows.map((row) => row.verification_id);
    };
    // The live record's row waits for Redis. The superseded one's may be gone already: a relay pass that finds no live
    // row in its batch publishes nothing, so it needs no Redis to drop it.
    expect(await outboxRows()).toContain(ids[1]);

    await redis.restart();
    await waitFor(async () => (await outboxRows()).length === 0, 15000);

    expect((await emailJob(ids[1]))?.data.verificationId).toBe(ids[1]);
    expect(await emailJob(ids[0], 0)).toBeUndefined();
  });

  it('should keep an outbox row whose queue this version does not know, counting the failed relay passes', async () => {
    const id = await emailStartWhileRedisDown();
    await t.dataSource.query(`UPDATE delivery_outbox SET queue = 'fax' WHERE verification_id = $1`, [id]);
    await redis.restart();

    const attempts = async () =>
      (await t.dataSource.query('SELECT relay_attempts FROM delivery_outbox WHERE verification_id = $1', [id]))[0]
        ?.relay_attempts as number | undefined;
    await waitFor(async () => ((await attempts()) ?? 0) >= 2, 15000);
    const [row] = await t.dataSource.query('SELECT delivery_status FROM verifications WHERE id = $1', [id]);
    expect(row.delivery_status).toBe('pending');
    await t.dataSource.query('DELETE FROM delivery_outbox WHERE verification_id = $1', [id]);
  });

  it('should refuse private_key_jwt starts with 503 while Redis is down (an assertion cannot be proven unused)', async () => {
    const jwtClient = await createClient(t.dataSource, { authMethod: 'private_key_jwt' });
    await redis.stop();
    const res = await t.post('/passwordless/start', {
      client_id: jwtClient.clientId,
      client_assertion: await signAssertion(jwtClient, t.config.issuerBaseUrl),
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      connection: 'email',
      email: uniqueEmail(),
      send: 'code',
    });
    expect([res.status, res.body.error]).toEqual([503, 'temporarily_unavailable']);
    expect(
      await t.dataSource.query('SELECT 1 FROM verifications WHERE client_id = $1', [jwtClient.clientId]),
    ).toHaveLength(0);
    await redis.restart();
  });

  it('should let SMS starts through the rate limits and the breaker (they fail open) while Redis is down', async () => {
    await redis.stop();
    const phone = uniquePhone();
    const res = await t.post('/passwordless/start', {
      client_id: client.clientId,
      client_secret: client.secret,
      connection: 'sms',
      phone_number: phone,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-ratelimit-limit')).toBeNull();
    await redis.restart();
    const outboxRows = () =>
      t.dataSource.query('SELECT 1 FROM delivery_outbox WHERE verification_id = $1', [res.body._id]);
    await waitFor(async () => (await outboxRows()).length === 0, 15000);
  });
});

describe('the outbox relay role', () => {
  let t: TestApp;

  beforeAll(async () => {
    // A timer far beyond the tests: only the notifications of each start's commit can move the rows.
    t = await startTestApp({ env: { OUTBOX_RELAY_INTERVAL_MS: '600000' } });
  });
  afterAll(() => t.close());

  const listenBackends = (): Promise<Array<{ pid: number }>> =>
    t.dataSource.query(
      `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN delivery_outbox'`,
    );

  it('should listen again after Postgres drops its connection, and then queue what was started meanwhile', async () => {
    const client = await createClient(t.dataSource);
    await waitFor(async () => (await listenBackends()).length === 1, 5000);
    const [{ pid }] = await listenBackends();
    await t.dataSource.query('SELECT pg_terminate_backend($1)', [pid]);
    const res = await t.post('/passwordless/start', {
      client_id: client.clientId,
      client_secret: client.secret,
      connection: 'email',
      email: uniqueEmail(),
      send: 'code',
    });
    expect(res.status).toBe(200);
    const inspector = new QueueInspector(t.config);
    try {
      expect((await inspector.job(QueueName.Email, res.body._id as string, 15000))?.data.verificationId).toBe(
        res.body._id,
      );
    } finally {
      await inspector.close();
    }
    await waitFor(async () => (await listenBackends()).some((b) => b.pid !== pid), 5000);
  });

  it('should move every start without its timer, whether it commits during a pass, between spaced passes or when idle', async () => {
    const client = await createClient(t.dataSource);
    const start = () =>
      t.post('/passwordless/start', {
        client_id: client.clientId,
        client_secret: client.secret,
        connection: 'email',
        email: uniqueEmail(),
        send: 'code',
      });
    const ids: string[] = [];
    for (const [burst, pauseMs] of [
      [1, 0],
      [8, 5],
      [1, 0],
      [20, 30],
      [3, 0],
      [1, 100],
      [12, 0],
    ]) {
      const responses = await Promise.all(Array.from({ length: burst }, start));
      expect(responses.map((r) => r.status)).toEqual(Array(burst).fill(200));
      ids.push(...responses.map((r) => r.body._id as string));
      await sleep(pauseMs);
    }
    await waitFor(
      async () =>
        (await t.dataSource.query('SELECT 1 FROM delivery_outbox WHERE verification_id = ANY($1)', [ids])).length === 0,
      5000,
    );
  });
});
