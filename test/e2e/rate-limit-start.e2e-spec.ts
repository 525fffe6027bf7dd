import { randomInt } from 'node:crypto';
import { Clock } from '../../src/common/clock';
import { createClient, signAssertion, uniqueEmail, uniqueIp, uniquePhone, type TestClient } from '../utils/factories';
import { ManualClock } from '../utils/passwordless-flow';
import { isolatedRedisPrefix, startTestApp, type TestApp, type TestResponse } from '../utils/test-app';

const TOO_MANY = {
  error: 'too_many_requests',
  error_description:
    'Too many requests. Check the X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset headers.',
};
const HOUR = 3_600_000;
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

describe('POST /passwordless/start limits', () => {
  const clock = new ManualClock();
  let t: TestApp;
  let web: TestClient;

  beforeAll(async () => {
    t = await startTestApp({
      env: {
        REDIS_PREFIX: isolatedRedisPrefix(),
        TRUST_PROXY: '1', // every test sends its own X-Forwarded-For, so it owns its per-IP counter
        RATE_LIMIT_START_PER_IP: '3',
        RATE_LIMIT_START_PER_IDENTIFIER: '3',
        RATE_LIMIT_START_IDENTIFIER_COOLDOWN_MS: '30000',
        SMS_ALLOWED_CALLING_CODES: '1,44',
        SMS_COUNTRY_BUDGET_PER_HOUR: '5',
        SMS_PREFIX_BUDGET_PER_HOUR: '3',
        SMS_BREAKER_MIN_SENDS: '1000',
      },
      overrides: [{ provide: Clock, useValue: clock }],
    });
    web = await createClient(t.dataSource);
  });

  afterAll(() => t.close());

  const start = (client: TestClient, body: Record<string, unknown>, headers: Record<string, string>) =>
    t.post('/passwordless/start', { client_id: client.clientId, client_secret: client.secret, ...body }, headers);
  const email = (client: TestClient, address: string, ip: string, extra: Record<string, string> = {}) =>
    start(client, { connection: 'email', email: address, send: 'code' }, { 'x-forwarded-for': ip, ...extra });
  const sms = (phone: string, ip = uniqueIp()) =>
    start(web, { connection: 'sms', phone_number: phone }, { 'x-forwarded-for': ip });
  const recordsFor = async (identifier: string) =>
    Number(
      (await t.dataSource.query('SELECT count(*) AS n FROM verifications WHERE identifier = $1', [identifier]))[0].n,
    );
  const nowSeconds = () => Math.ceil(clock.now().getTime() / 1000);

  /** A 429 for the limit of size `limit`, retryable within `maxRetryAfter` seconds. */
  const expectTooMany = (res: TestResponse, limit: number, maxRetryAfter: number) => {
    expect(res.status).toBe(429);
    expect(res.body).toEqual(TOO_MANY);
    expect(res.headers.get('x-ratelimit-limit')).toBe(String(limit));
    expect(res.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(res.headers.get('retry-after'))).toBeLessThanOrEqual(maxRetryAfter);
    const resetInSeconds = Number(res.headers.get('x-ratelimit-reset')) - clock.now().getTime() / 1000;
    // Both round up to whole seconds (1 s apart at most), and the clock has moved on since the server read it.
    expect(Math.abs(resetInSeconds - Number(res.headers.get('retry-after')))).toBeLessThanOrEqual(1.5);
  };

  it('should allow 3 starts per IP with X-RateLimit headers, then answer Auth0’s 429 without writing, and slide back open', async () => {
    const ip = uniqueIp();
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await email(web, uniqueEmail(), ip);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-ratelimit-limit')).toBe('3');
      expect(Number(res.headers.get('x-ratelimit-reset'))).toBeGreaterThan(nowSeconds());
      remaining.push(res.headers.get('x-ratelimit-remaining')!);
    }
    expect(remaining).toEqual(['2', '1', '0']);

    const blocked = uniqueEmail();
    expectTooMany(await email(web, blocked, ip), 3, 3600);
    expect(await recordsFor(blocked)).toBe(0);
    expect((await email(web, uniqueEmail(), uniqueIp())).status).toBe(200);

    clock.advance(HOUR);
    expect((await email(web, blocked, ip)).status).toBe(200);
  });

  it('should count invalid requests from an IP too, and still tell the client its remaining budget', async () => {
    const ip = uniqueIp();
    const bad = await start(web, { connection: 'email', email: 'not-an-email' }, { 'x-forwarded-for': ip });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('x-ratelimit-remaining')).toBe('2');
  });

  it('should enforce a resend cooldown and an hourly cap per identifier, whatever the IP', async () => {
    const address = uniqueEmail();
    expect((await email(web, address, uniqueIp())).status).toBe(200);
    const resend = await email(web, address, uniqueIp());
    expectTooMany(resend, 1, 30);
    expect(await recordsFor(address)).toBe(1);

    clock.advance(31_000);
    expect((await email(web, address, uniqueIp())).status).toBe(200);
    clock.advance(31_000);
    expect((await email(web, address, uniqueIp())).status).toBe(200);
    clock.advance(31_000);
    expectTooMany(await email(web, address, uniqueIp()), 3, HOUR / 1000);
    expect(await recordsFor(address)).toBe(3);
  });

  it('should charge the IP for a start an identifier limit refuses, but no identifier limit for a start the IP limit refuses', async () => {
    const ip = uniqueIp();
    const address = uniqueEmail();
    expect((await email(web, address, ip)).headers.get('x-ratelimit-remaining')).toBe('2');
    const cooling = await email(web, address, ip);
    expectTooMany(cooling, 1, 30);
    expect((await email(web, uniqueEmail(), ip)).headers.get('x-ratelimit-remaining')).toBe('0');

    const refusedByIp = uniqueEmail();
    expectTooMany(await email(web, refusedByIp, ip), 3, 3600);
    // Its cooldown and hourly cap were not used up: the same address starts at once from another IP.
    expect((await email(web, refusedByIp, uniqueIp())).status).toBe(200);
  });

  it('should apply a client’s own overrides: a global budget per client and a longer cooldown', async () => {
    const small = await createClient(t.dataSource, {
      rateLimits: { startPerClient: 2, startIdentifierCooldownMs: 120_000, startPerIp: 'ignored' },
    });
    const address = uniqueEmail();
    expect((await email(small, address, uniqueIp())).status).toBe(200);
    clock.advance(60_000);
    expectTooMany(await email(small, address, uniqueIp()), 1, 60);
    expect((await email(small, uniqueEmail(), uniqueIp())).status).toBe(200);
    expectTooMany(await email(small, uniqueEmail(), uniqueIp()), 2, HOUR / 1000);
    expect((await email(web, uniqueEmail(), uniqueIp())).status).toBe(200);
  });

  describe('auth0-forwarded-for', () => {
    it('should move a trusted confidential client’s starts from its own IP to the forwarded end-user IP', async () => {
      const backend = await createClient(t.dataSource, { trustForwardedFor: true, rateLimits: { startPerIp: 1 } });
      const serverIp = uniqueIp();
      const users = [uniqueIp(), uniqueIp(), uniqueIp(), uniqueIp(), uniqueIp()];
      const first = await email(backend, uniqueEmail(), serverIp, { 'auth0-forwarded-for': users[0] });
      expect(first.status).toBe(200);
      expect(first.headers.get('x-ratelimit-limit')).toBe('1');
      expect(
        (await t.dataSource.query('SELECT request_ip FROM verifications WHERE id = $1', [first.body._id]))[0]
          .request_ip,
      ).toBe(users[0]);
      // More starts than the server IP's own limit (3): each was moved from there and counted per user instead.
      for (const user of users.slice(1))
        expect((await email(backend, uniqueEmail(), serverIp, { 'auth0-forwarded-for': user })).status).toBe(200);
      expectTooMany(await email(backend, uniqueEmail(), serverIp, { 'auth0-forwarded-for': users[0] }), 1, HOUR / 1000);
    });

    it('should still refuse a connecting IP over its limit, whatever user IP it forwards (no oracle for guessed secrets)', async () => {
      const backend = await createClient(t.dataSource, { trustForwardedFor: true });
      const serverIp = uniqueIp();
      const guess = { ...backend, secret: 'guess' };
      for (let i = 0; i < 3; i++)
        expect((await email(guess, uniqueEmail(), serverIp, { 'auth0-forwarded-for': uniqueIp() })).status).toBe(401);
      expectTooMany(await email(guess, uniqueEmail(), serverIp, { 'auth0-forwarded-for': uniqueIp() }), 3, 3600);
      expectTooMany(await email(backend, uniqueEmail(), serverIp, { 'auth0-forwarded-for': uniqueIp() }), 3, 3600);
    });

    // With the header the assertion's jti is checked during authentication, before the charge can move: a replay must
    // not choose the IP it is charged to, and an assertion refused for its user's IP is spent all the same.
    it('should charge a replayed assertion to the connecting IP, and spend an assertion refused for its user’s IP', async () => {
      const backend = await createClient(t.dataSource, {
        authMethod: 'private_key_jwt',
        trustForwardedFor: true,
        rateLimits: { startPerIp: 1 },
      });
      const serverIp = uniqueIp();
      const user = uniqueIp();
      const assertion = () => signAssertion(backend, t.config.issuerBaseUrl, { at: nowSeconds() });
      const startAs = (signed: string, forwardedFor: string, connectingIp = serverIp) =>
        t.post(
          '/passwordless/start',
          {
            client_id: backend.clientId,
            client_assertion: signed,
            client_assertion_type: ASSERTION_TYPE,
            connection: 'email',
            email: uniqueEmail(),
            send: 'code',
          },
          { 'x-forwarded-for': connectingIp, 'auth0-forwarded-for': forwardedFor },
        );
      const used = await assertion();
      expect((await startAs(used, user)).status).toBe(200);
      const refusedForUser = await assertion();
      expectTooMany(await startAs(refusedForUser, user), 1, HOUR / 1000);
      expect((await startAs(refusedForUser, uniqueIp())).status).toBe(401);
      // Replays are charged to the server's IP (limit 3), never to the IPs they forward.
      const victim = uniqueIp();
      expect((await startAs(used, victim)).status).toBe(401);
      expect((await startAs(used, victim)).status).toBe(401);
      expectTooMany(await startAs(await assertion(), victim), 3, HOUR / 1000);
      expect((await startAs(await assertion(), victim, uniqueIp())).status).toBe(200);
    });

    it('should ignore it from a client that is not trusted, and values that are not an IP, counting the connecting IP', async () => {
      const untrusted = await createClient(t.dataSource);
      const trusted = await createClient(t.dataSource, { trustForwardedFor: true });
      for (const [client, forwarded] of [
        [untrusted, () => uniqueIp()],
        [trusted, () => 'not-an-ip'],
      ] as const) {
        const ip = uniqueIp();
        for (let i = 0; i < 3; i++)
          expect((await email(client, uniqueEmail(), ip, { 'auth0-forwarded-for': forwarded() })).status).toBe(200);
        expect((await email(client, uniqueEmail(), ip, { 'auth0-forwarded-for': forwarded() })).status).toBe(429);
      }
    });

    it('should refuse to store the trust flag on a public client', async () => {
      await expect(createClient(t.dataSource, { authMethod: 'none', trustForwardedFor: true })).rejects.toThrow(
        /clients_forwarded_for_confidential_only/,
      );
    });
  });

  describe('SMS destinations', () => {
    it('should refuse a calling code outside the allowed list with a clear 400 and write nothing', async () => {
      const res = await sms('+33612345678');
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        error: 'bad.phone_number',
        error_description: 'error in phone_number - SMS to country calling code +33 is not allowed for this connection',
      });
      expect(await recordsFor('+33612345678')).toBe(0);
    });

    it('should let a connection list its own calling codes', async () => {
      const connection = `sms-fr-${randomInt(0, 1e9)}`;
      await t.dataSource.query(
        `INSERT INTO connections (name, strategy, sender, allowed_calling_codes) VALUES ($1, 'sms', 'App', '["33"]')`,
        [connection],
      );
      const client = await createClient(t.dataSource, { connections: [connection] });
      const res = await start(client, { connection, phone_number: '+33612340001' }, { 'x-forwarded-for': uniqueIp() });
      expect(res.status).toBe(200);
      expect(
        (await start(client, { connection, phone_number: uniquePhone() }, { 'x-forwarded-for': uniqueIp() })).status,
      ).toBe(400);
    });

    it('should cap sends per number prefix per hour', async () => {
      const numbers = ['+447911100001', '+447911100002', '+447911100003', '+447911100004'];
      for (const phone of numbers.slice(0, 3)) expect((await sms(phone)).status).toBe(200);
      expectTooMany(await sms(numbers[3]), 3, HOUR / 1000);
      expect(await recordsFor(numbers[3])).toBe(0);
    });

    it('should cap sends per country per hour across prefixes', async () => {
      const areaCodes = ['202', '212', '213', '312', '415', '617'];
      const phones = areaCodes.map((area) => `+1${area}${2000000 + randomInt(0, 7999999)}`);
      for (const phone of phones.slice(0, 5)) expect((await sms(phone)).status).toBe(200);
      expectTooMany(await sms(phones[5]), 5, HOUR / 1000);
    });
  });

  it('should answer a known and an unknown identifier identically (status, header names, body shape)', async () => {
    const known = uniqueEmail();
    expect((await email(web, known, uniqueIp())).status).toBe(200);
    clock.advance(31_000);
    const [a, b] = [await email(web, known, uniqueIp()), await email(web, uniqueEmail(), uniqueIp())];
    expect(a.status).toBe(b.status);
    expect([...a.headers.keys()].filter((h) => h !== 'date').sort()).toEqual(
      [...b.headers.keys()].filter((h) => h !== 'date').sort(),
    );
    expect(Object.keys(a.body).sort()).toEqual(Object.keys(b.body).sort());
    expect(a.headers.get('x-ratelimit-remaining')).toBe(b.headers.get('x-ratelimit-remaining'));
  });
});
