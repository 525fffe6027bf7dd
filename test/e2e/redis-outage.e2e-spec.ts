import type { Worker } from 'node:worker_threads';
import { QueueName } from '../../src/delivery/delivery.constants';
import { OutboxRelayHost } from '../../src/delivery/outbox-relay.host';
import { createClient, uniqueEmail, uniquePhone, type TestClient } from '../utils/factories';
import { QueueInspector } from '../utils/queue-inspector';
import { RedisProcess, waitFor } from '../utils/redis-process';
import { startTestApp, type TestApp } from '../utils/test-app';

describe('POST /passwordless/start while Redis is down', () => {
  let redis: RedisProcess;
  let t: TestApp;
  let client: TestClient;

  beforeAll(async () => {
    redis = await RedisProcess.start();
    t = await startTestApp({ env: { REDIS_URL: redis.url, OUTBOX_RELAY_INTERVAL_MS: '100', ENQUEUE_TIMEOUT_MS: '300' } });
    client = await createClient(t.dataSource);
  });

  afterAll(async () => {
    await t.close();
    await redis.stop();
  });

  it('should still answer 200 and end in a queued job once Redis returns (transactional outbox)', async () => {
    await redis.stop();
    const res = await t.post('/passwordless/start', { client_id: client.clientId, client_secret: client.secret, connection: 'email', email: uniqueEmail(), send: 'code' });
    expect(res.status).toBe(200);
    const id = res.body._id as string;
    const outboxRows = () => t.dataSource.query('SELECT relay_attempts FROM delivery_outbox WHERE verification_id = $1', [id]);
    expect(await outboxRows()).toHaveLength(1);

    await redis.restart();
    await waitFor(async () => (await outboxRows()).length === 0, 15000);

    const inspector = new QueueInspector(t.config);
    try {
      const job = await inspector.job(QueueName.Email, id);
      expect(job?.data.verificationId).toBe(id);
    } finally {
      await inspector.close();
    }
    const [row] = await t.dataSource.query('SELECT delivery_status FROM verifications WHERE id = $1', [id]);
    expect(row.delivery_status).toBe('queued');
  });

  it('should queue only the latest of two starts made while Redis was down (the superseded row is dropped)', async () => {
    await redis.stop();
    const email = uniqueEmail();
    const body = { client_id: client.clientId, client_secret: client.secret, connection: 'email', email, send: 'code' };
    const first = await t.post('/passwordless/start', body);
    const second = await t.post('/passwordless/start', body);
    expect([first.status, second.status]).toEqual([200, 200]);
    const ids = [first.body._id as string, second.body._id as string];
    const outboxRows = () => t.dataSource.query('SELECT 1 FROM delivery_outbox WHERE verification_id = ANY($1)', [ids]);
    expect(await outboxRows()).toHaveLength(2);

    await redis.restart();
    await waitFor(async () => (await outboxRows()).length === 0, 15000);

    const inspector = new QueueInspector(t.config);
    try {
      expect((await inspector.job(QueueName.Email, ids[1]))?.data.verificationId).toBe(ids[1]);
      expect(await inspector.job(QueueName.Email, ids[0], 0)).toBeUndefined();
    } finally {
      await inspector.close();
    }
  });

  it('should keep an outbox row whose queue this version does not know, counting the failed relay passes', async () => {
    await redis.stop();
    const res = await t.post('/passwordless/start', { client_id: client.clientId, client_secret: client.secret, connection: 'email', email: uniqueEmail(), send: 'code' });
    expect(res.status).toBe(200);
    const id = res.body._id as string;
    await t.dataSource.query(`UPDATE delivery_outbox SET queue = 'fax' WHERE verification_id = $1`, [id]);
    await redis.restart();

    const attempts = async () => (await t.dataSource.query('SELECT relay_attempts FROM delivery_outbox WHERE verification_id = $1', [id]))[0]?.relay_attempts as number | undefined;
    await waitFor(async () => ((await attempts()) ?? 0) >= 2, 15000);
    const [row] = await t.dataSource.query('SELECT delivery_status FROM verifications WHERE id = $1', [id]);
    expect(row.delivery_status).toBe('pending');
    await t.dataSource.query('DELETE FROM delivery_outbox WHERE verification_id = $1', [id]);
  });

  it('should let SMS starts through the rate limits and the breaker (they fail open) while Redis is down', async () => {
    await redis.stop();
    const phone = uniquePhone();
    const res = await t.post('/passwordless/start', { client_id: client.clientId, client_secret: client.secret, connection: 'sms', phone_number: phone });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-ratelimit-limit')).toBeNull();
    await redis.restart();
    const outboxRows = () => t.dataSource.query('SELECT 1 FROM delivery_outbox WHERE verification_id = $1', [res.body._id]);
    await waitFor(async () => (await outboxRows()).length === 0, 15000);
  });
});

describe('the outbox relay thread', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());
  /** The host's current thread (a private field: killing it from outside is what a crash looks like). */
  const relayThread = () => t.app.get<OutboxRelayHost, { thread?: Worker }>(OutboxRelayHost).thread;

  it('should be restarted after it dies, and then queue what was started meanwhile', async () => {
    const client = await createClient(t.dataSource);
    const thread = relayThread();
    await thread!.terminate();
    const res = await t.post('/passwordless/start', { client_id: client.clientId, client_secret: client.secret, connection: 'email', email: uniqueEmail(), send: 'code' });
    expect(res.status).toBe(200);
    const inspector = new QueueInspector(t.config);
    try {
      expect((await inspector.job(QueueName.Email, res.body._id as string, 15000))?.data.verificationId).toBe(res.body._id);
    } finally {
      await inspector.close();
    }
    expect(relayThread()).not.toBe(thread);
  });
});
