import calculateSlot from 'cluster-key-slot';
import IORedis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { QueueName, queuePrefix } from '../../src/delivery/delivery.constants';
import { rateLimitKey, SlidingWindowStore, type LimitRule } from '../../src/rate-limit/sliding-window.store';
import { waitForStatus } from '../utils/delivery-helpers';
import { FakeTwilio } from '../utils/fake-sms-vendors';
import { createClient, signAssertion, uniqueEmail, uniquePhone, type TestClient } from '../utils/factories';
import { OTP_GRANT } from '../utils/passwordless-flow';
import { RedisCluster } from '../utils/redis-cluster';
import { RedisProcess, waitFor } from '../utils/redis-process';
import { RedisSentinel } from '../utils/redis-sentinel';
import { SmtpSink } from '../utils/smtp-sink';
import { isolatedRedisPrefix, startTestApp, type TestApp } from '../utils/test-app';
import { startTestWorker, type TestWorker } from '../utils/test-worker';

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const PER_IDENTIFIER = 5;
/** The code in the default email text (ends its line) and SMS text (starts it); the client's name may hold digits. */
const EMAILED_CODE = / is: (\d{6})$/m;
const SMS_CODE = /^(\d{6}) is your verification code/;

/** A Redis for one suite: its env, the servers behind it (to stop one), and the one holding a key. */
interface Topology {
  env: Record<string, string>;
  /** The server that holds `key` (a Cluster node, or the only server). */
  serverFor(key: string): Promise<RedisProcess>;
  stop(): Promise<void>;
}

const plainRedis = async (): Promise<Topology> => {
  const redis = await RedisProcess.start();
  return { env: { REDIS_URL: redis.url }, serverFor: () => Promise.resolve(redis), stop: () => redis.stop() };
};

const redisCluster = async (): Promise<Topology> => {
  const cluster = await RedisCluster.start(3);
  return {
    // REDIS_URL points at a port nothing listens on: the Cluster's seeds take precedence.
    env: { REDIS_CLUSTER_NODES: cluster.seeds.join(','), REDIS_URL: 'redis://127.0.0.1:1' },
    serverFor: (key) => cluster.nodeFor(calculateSlot(key)),
    stop: () => cluster.stop(),
  };
};

const sentinelPrimary = async (): Promise<Topology> => {
  const primary = await RedisProcess.start();
  const sentinel = await RedisSentinel.start(primary);
  return {
    // REDIS_URL's host is not used: the Sentinel names the primary.
    env: {
      REDIS_SENTINELS: `127.0.0.1:${sentinel.port}`,
      REDIS_SENTINEL_NAME: sentinel.name,
      REDIS_URL: 'redis://127.0.0.1:1',
    },
    serverFor: () => Promise.resolve(primary),
    stop: async () => {
      await sentinel.stop();
      await primary.stop();
    },
  };
};

/**
 * The whole flow on each Redis topology the service supports: one server, a 3-master Redis Cluster (seeded by
 * REDIS_CLUSTER_NODES), and a primary found through Redis Sentinel. Starts with a secret and with private_key_jwt, the email and SMS workers delivering to sinks,
 * the OTP grant, the start limits, jti replay, and the relay catching up after the queue's Redis node was down.
 */
describe.each([
  ['one Redis server', plainRedis],
  ['a 3-master Redis Cluster', redisCluster],
  ['a primary named by Redis Sentinel', sentinelPrimary],
])('On %s', (_name, topology) => {
  let redis: Topology;
  let sink: SmtpSink;
  let twilio: FakeTwilio;
  let apps: TestApp[];
  let worker: TestWorker;
  let secretClient: TestClient;
  let jwtClient: TestClient;
  let env: Record<string, string>;

  beforeAll(async () => {
    redis = await topology();
    sink = await SmtpSink.start({ parse: true });
    twilio = await FakeTwilio.start();
    env = {
      ...redis.env,
      REDIS_PREFIX: isolatedRedisPrefix(),
      RATE_LIMIT_START_PER_IDENTIFIER: String(PER_IDENTIFIER),
      WORKER_QUEUES: 'email,sms',
      EMAIL_PROVIDER: 'smtp',
      SMTP_URL: sink.url,
      SMS_PROVIDER: 'twilio',
      TWILIO_BASE_URL: twilio.url,
      TWILIO_ACCOUNT_SID: twilio.accountSid,
      TWILIO_AUTH_TOKEN: twilio.authToken,
      TWILIO_FROM: '+15005550006',
      DELIVERY_BACKOFF_MS: '100',
    };
    // Two API instances (each with its relay) share the limits, as replicas behind a load balancer do.
    apps = [await startTestApp({ env }), await startTestApp({ env })];
    worker = await startTestWorker(env);
    secretClient = await createClient(apps[0].dataSource);
    jwtClient = await createClient(apps[0].dataSource, { authMethod: 'private_key_jwt' });
  }, 60_000);

  afterAll(async () => {
    await worker?.close();
    for (const app of apps ?? []) await app.close();
    await sink?.close();
    await twilio?.close();
    await redis?.stop();
  });

  const secretAuth = () => ({ client_id: secretClient.clientId, client_secret: secretClient.secret! });
  const jwtAuth = async (jti = randomUUID()) => ({
    client_id: jwtClient.clientId,
    client_assertion: await signAssertion(jwtClient, apps[0].config.issuerBaseUrl, { jti }),
    client_assertion_type: JWT_BEARER,
  });
  const emailStart = (email: string, auth: Record<string, string>, app = apps[0]) =>
    app.post('/passwordless/start', { ...auth, connection: 'email', email, send: 'code' });
  const redeem = (username: string, otp: string, realm: string, auth: Record<string, string> = secretAuth()) =>
    apps[1].post('/oauth/token', { grant_type: OTP_GRANT, ...auth, username, otp, realm, scope: 'openid' });

  it('should log in by email: start with a secret, the worker mails the code, the OTP grant answers tokens', async () => {
    const email = uniqueEmail();
    expect((await emailStart(email, secretAuth())).status).toBe(200);
    const [mail] = await sink.waitFor(email, 1, 15_000);
    const code = EMAILED_CODE.exec(mail.text ?? '')![1];
    const tokens = await redeem(email, code, 'email');
    expect(tokens.status).toBe(200);
    expect(tokens.body).toMatchObject({ token_type: 'Bearer', id_token: expect.any(String) });
  });

  it('should log in by SMS with a private_key_jwt start, and refuse the same assertion twice', async () => {
    const phone = uniquePhone();
    const auth = await jwtAuth();
    const start = () => apps[0].post('/passwordless/start', { ...auth, connection: 'sms', phone_number: phone });
    expect((await start()).status).toBe(200);
    const replay = await start();
    expect({ status: replay.status, error: replay.body.error }).toEqual({ status: 401, error: 'invalid_client' });

    await waitFor(() => Promise.resolve(twilio.sentTo(phone).length > 0), 15_000);
    const code = SMS_CODE.exec(twilio.sentTo(phone)[0].body)![1];
    expect((await redeem(phone, code, 'sms', await jwtAuth())).status).toBe(200);
  });

  it('should admit exactly the per-identifier limit among 12 concurrent starts spread over two API instances', async () => {
    const email = uniqueEmail();
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => emailStart(email, secretAuth(), apps[i % 2])),
    );
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([
      ...Array<number>(PER_IDENTIFIER).fill(200),
      ...Array<number>(12 - PER_IDENTIFIER).fill(429),
    ]);
    const refused = answers.find((a) => a.status === 429)!;
    expect(refused.body).toEqual({ error: 'too_many_requests', error_description: expect.any(String) });
    // A refused start charged nothing: another identifier from the same client and IP is still admitted.
    expect((await emailStart(uniqueEmail(), secretAuth(), apps[1])).status).toBe(200);
  });

  it('should deliver a start accepted while the queue’s Redis node was down, once it is back', async () => {
    const email = uniqueEmail();
    const node = await redis.serverFor(`${queuePrefix(env.REDIS_PREFIX, QueueName.Email)}:email:wait`);
    await node.stop();
    let id: string;
    try {
      const start = await emailStart(email, secretAuth());
      expect(start.status).toBe(200);
      id = start.body._id as string;
      await sleep(1500);
      expect(sink.mails(email)).toHaveLength(0);
    } finally {
      await node.restart();
    }
    const [mail] = await sink.waitFor(email, 1, 30_000);
    expect(mail.text).toMatch(EMAILED_CODE);
    await waitForStatus(apps[0].dataSource, id, 'sent');
  }, 60_000);
});

describe('On a Redis Cluster, keys of different subjects', () => {
  let cluster: RedisCluster;
  let t: TestApp;

  beforeAll(async () => {
    cluster = await RedisCluster.start(3);
    t = await startTestApp({
      env: { REDIS_CLUSTER_NODES: cluster.seeds.join(','), REDIS_PREFIX: isolatedRedisPrefix() },
      relay: false,
    });
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    await cluster?.stop();
  });

  it('should land in different slots and on more than one node, queues included', async () => {
    const client = await createClient(t.dataSource);
    for (let i = 0; i < 6; i++) {
      const res = await t.post('/passwordless/start', {
        client_id: client.clientId,
        client_secret: client.secret,
        connection: 'email',
        email: uniqueEmail(),
        send: 'code',
      });
      expect(res.status).toBe(200);
    }
    const prefix = t.config.redis.prefix;
    const keysByNode = await Promise.all(
      cluster.nodes.map(async (node) => {
        const probe = new IORedis(node.url);
        try {
          return await probe.keys(`${prefix}:rl:*`);
        } finally {
          probe.disconnect();
        }
      }),
    );
    const keys = keysByNode.flat();
    expect(keys.length).toBeGreaterThan(6);
    // Distinct subjects hash to distinct slots (two of 16,384 may coincide by chance).
    expect(new Set(keys.map((key) => calculateSlot(key))).size).toBeGreaterThanOrEqual(keys.length - 1);
    expect(keysByNode.filter((onNode) => onNode.length > 0).length).toBeGreaterThan(1);
    expect(keys).toContain(rateLimitKey(prefix, `start-client:${client.clientId}`));
    // Each queue keeps its keys in one slot, and the two queues in different ones.
    expect(calculateSlot(`${queuePrefix(prefix, QueueName.Email)}:email:wait`)).not.toBe(
      calculateSlot(`${queuePrefix(prefix, QueueName.Sms)}:sms:wait`),
    );
  });
});

describe('On a Redis Cluster, the charge protocol across slots', () => {
  let cluster: RedisCluster;
  let t: TestApp;
  let store: SlidingWindowStore;
  const now = 1_800_000_000_000;
  let n = 0;
  const slot = (r: LimitRule) => calculateSlot(rateLimitKey(t.config.redis.prefix, r.key));
  /** A rule whose key hashes to a slot after those of `others` (slots are charged in ascending order). */
  const rule = (limit: number, ...others: LimitRule[]): LimitRule => {
    for (;;) {
      const candidate = { name: `r${++n}`, key: `protocol-test:${randomUUID()}`, limit, windowMs: 60_000 };
      if (others.every((other) => slot(other) < slot(candidate))) return candidate;
    }
  };

  beforeAll(async () => {
    cluster = await RedisCluster.start(3);
    t = await startTestApp({
      env: { REDIS_CLUSTER_NODES: cluster.seeds.join(','), REDIS_PREFIX: isolatedRedisPrefix() },
      relay: false,
    });
    store = t.app.get(SlidingWindowStore);
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    await cluster?.stop();
  });

  it('should refuse as one script would, naming the exceeded rule, and give back what the refused request charged', async () => {
    const wide = rule(5);
    const tight = rule(1, wide);
    expect((await store.consume([wide, tight], now)).allowed).toBe(true);
    const refused = await store.consume([wide, tight], now);
    expect(refused.allowed).toBe(false);
    expect(refused.denied!.state.rule).toBe(tight);
    expect(refused.states.map((state) => state.count)).toEqual([1, 1]);
    expect((await store.consume([wide], now)).states[0].count).toBe(2);
  });

  it('should decide the leading rules first and charge nothing when one of them is exceeded', async () => {
    const lead = rule(1);
    const rest = rule(5, lead);
    expect((await store.consume([lead, rest], now, { leading: 1 })).allowed).toBe(true);
    const refused = await store.consume([lead, rest], now, { leading: 1 });
    expect(refused.denied!.state.rule).toBe(lead);
    expect((await store.consume([rest], now)).states[0].count).toBe(2);
    // A refusal among the other rules keeps the leading charge, as the single script does.
    const lead2 = rule(5);
    const full = rule(1, lead2);
    await store.consume([full], now);
    expect((await store.consume([lead2, full], now, { leading: 1 })).allowed).toBe(false);
    expect((await store.consume([lead2], now)).states[0].count).toBe(2);
  });

  it('should report a check-only rule’s own count when another slot refuses (it was not charged, so not refunded)', async () => {
    const checked = rule(5);
    const tight = rule(1, checked);
    await store.consume([checked], now);
    await store.consume([tight], now);
    const refused = await store.consume([{ ...checked, checkOnly: true }, tight], now);
    expect(refused.denied!.state.rule).toBe(tight);
    expect(refused.states[0].count).toBe(1);
    expect((await store.consume([checked], now)).states[0].count).toBe(2);
  });

  it('should never overshoot under concurrency: 20 racing requests on a limit of 7 in one slot and a wide one in another', async () => {
    const wide = rule(100);
    const tight = rule(7, wide);
    const decisions = await Promise.all(Array.from({ length: 20 }, () => store.consume([wide, tight], now)));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(7);
    expect((await store.consume([wide], now)).states[0].count).toBe(8);
  });
});
