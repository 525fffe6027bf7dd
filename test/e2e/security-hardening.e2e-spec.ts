import { decodeJwt } from 'jose';
import { Redis } from 'ioredis';
import { connect } from 'node:net';
import { createClient, uniqueEmail, uniqueIp, type TestClient } from '../utils/factories';
import { otpGrant, readSecret } from '../utils/passwordless-flow';
import { QueueName } from '../../src/delivery/delivery.constants';
import { rateLimitKey } from '../../src/rate-limit/sliding-window.store';
import { QueueInspector } from '../utils/queue-inspector';
import { isolatedRedisPrefix, startTestApp, type TestApp } from '../utils/test-app';

/** Issue 27, findings 2 and 6: proxy trust, timeouts, cache and security headers, RFC 9068 claims, identifiers. */
describe('Security hardening', () => {
  const prefix = isolatedRedisPrefix();
  let t: TestApp;
  let inspector: QueueInspector;
  let web: TestClient;
  let redis: Redis;

  beforeAll(async () => {
    t = await startTestApp({
      env: {
        REDIS_PREFIX: prefix,
        TRUST_PROXY: '1', // one load balancer in front, which appends the address it saw
        RATE_LIMIT_START_PER_IP: '3',
        RATE_LIMIT_START_IDENTIFIER_COOLDOWN_MS: '0',
        HTTP_REQUEST_TIMEOUT_MS: '1000',
      },
    });
    inspector = new QueueInspector(t.config);
    web = await createClient(t.dataSource);
    redis = new Redis(t.config.redis.url);
  });

  afterAll(async () => {
    redis.disconnect();
    await inspector.close();
    await t.close();
  });

  const start = (headers: Record<string, string>, email = uniqueEmail()) =>
    t.post(
      '/passwordless/start',
      { client_id: web.clientId, client_secret: web.secret, connection: 'email', email, send: 'code' },
      headers,
    );

  /** A code start from an IP of its own (the loopback address is limited by the tests above). */
  const codeFor = async (email: string) => {
    const res = await start({ 'x-forwarded-for': uniqueIp() }, email);
    expect(res.status).toBe(200);
    return { ...(await readSecret(t, inspector, res.body._id as string, QueueName.Email)), body: res.body };
  };

  describe('TRUST_PROXY as a hop count', () => {
    it('should limit the address the load balancer saw, whatever X-Forwarded-For the client wrote before it', async () => {
      const client = uniqueIp();
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++)
        statuses.push((await start({ 'x-forwarded-for': `${uniqueIp()}, ${uniqueIp()}, ${client}` })).status);
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
      // Another client behind the same balancer is not affected.
      expect((await start({ 'x-forwarded-for': `${client}, ${uniqueIp()}` })).status).toBe(200);
    });

    it('should never make a limit key of a forwarded value that is not an IP', async () => {
      const junk = `not-an-ip-${Date.now()}`;
      await start({ 'x-forwarded-for': junk });
      await start({ 'x-forwarded-for': 'x'.repeat(2000) });
      const keys = await redis.keys(`${prefix}:*`);
      expect(keys.filter((key) => key.includes('not-an-ip') || key.includes('xxxx'))).toEqual([]);
      expect(keys).toContain(rateLimitKey(prefix, 'start-ip:127.0.0.1'));
    });
  });

  describe('timeouts', () => {
    it('should close a connection whose body trickles in beyond HTTP_REQUEST_TIMEOUT_MS', async () => {
      const socket = connect(Number(new URL(t.baseUrl).port), '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write(
        'POST /passwordless/start HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{',
      );
      const trickle = setInterval(() => socket.write(' '), 100);
      let answer = '';
      socket.on('data', (chunk) => (answer += chunk.toString()));
      const startedAt = Date.now();
      await new Promise((resolve) => socket.once('close', resolve));
      clearInterval(trickle);
      const elapsed = Date.now() - startedAt;
      expect(elapsed).toBeGreaterThanOrEqual(900);
      expect(elapsed).toBeLessThan(5000);
      expect(answer).toMatch(/^HTTP\/1.1 408/);
    });
  });

  describe('headers', () => {
    it('should send no-store and Pragma: no-cache on token answers, errors included, and on userinfo', async () => {
      const email = uniqueEmail();
      const { code } = await codeFor(email);
      const ok = await otpGrant(t, web, { username: email, otp: code, realm: 'email', scope: 'openid' });
      const wrong = await otpGrant(t, web, { username: email, otp: '000000', realm: 'email' });
      const info = await t.get('/userinfo', { authorization: `Bearer ${ok.body.access_token as string}` });
      const infoError = await t.get('/userinfo', { authorization: 'Bearer nope' });
      expect([ok.status, wrong.status, info.status, infoError.status]).toEqual([200, 403, 200, 401]);
      for (const res of [ok, wrong, info, infoError]) {
        expect(res.headers.get('cache-control')).toBe('no-store');
        expect(res.headers.get('pragma')).toBe('no-cache');
        expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      }
      expect((await t.get('/.well-known/jwks.json')).headers.get('cache-control')).toBe('public, max-age=300');
    });

    it('should send helmet’s headers on JSON answers', async () => {
      const res = await t.get('/.well-known/openid-configuration');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(res.headers.get('strict-transport-security')).toContain('max-age=');
    });

    it('should put RFC 9068 client_id and a unique jti in access tokens', async () => {
      const tokens: Array<Record<string, unknown>> = [];
      for (let i = 0; i < 2; i++) {
        const email = uniqueEmail();
        const { code } = await codeFor(email);
        const res = await otpGrant(t, web, { username: email, otp: code, realm: 'email' });
        tokens.push(decodeJwt(res.body.access_token as string));
      }
      expect(tokens[0]).toMatchObject({ client_id: web.clientId, jti: expect.any(String), iat: expect.any(Number) });
      expect(tokens[0].jti).not.toBe(tokens[1].jti);
    });
  });

  describe('identifiers', () => {
    it('should refuse look-alike emails (invisible or mixed-script characters) with Auth0’s bad.email', async () => {
      for (const email of ['victim\u200b@example.com', 'victim@ex\u0430mple.com', '\u0440aypal@example.com']) {
        const res = await start({ 'x-forwarded-for': uniqueIp() }, email);
        expect(res.status).toBe(400);
        expect(res.body).toEqual({
          error: 'bad.email',
          error_description: `error in email - email format validation failed: ${email}`,
        });
      }
    });

    it('should store an internationalised domain in its IDNA form, so both spellings are one account', async () => {
      const local = `user.${Date.now()}`;
      const res = await start({ 'x-forwarded-for': uniqueIp() }, `${local}@bücher.example`);
      expect(res.status).toBe(200);
      expect(res.body.email).toBe(`${local}@xn--bcher-kva.example`);
      const { code } = await codeFor(`${local}@BÜCHER.example`);
      const login = await otpGrant(t, web, { username: `${local}@xn--bcher-kva.example`, otp: code, realm: 'email' });
      expect(login.status).toBe(200);
    });
  });
});
