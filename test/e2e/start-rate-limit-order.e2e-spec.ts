import { createClient, uniqueEmail, uniqueIp } from '../utils/factories';
import { startTestApp, type TestApp } from '../utils/test-app';

describe('POST /passwordless/start per-IP limit', () => {
  let t: TestApp;

  beforeAll(async () => {
    // TRUST_PROXY: a test that sends X-Forwarded-For owns its per-IP counter.
    t = await startTestApp({
      env: { RATE_LIMIT_START_PER_IP: '3', TRUST_PROXY: '1', REDIS_PREFIX: `${process.env.REDIS_PREFIX}-order` },
    });
  });
  afterAll(() => t.close());

  it('should count requests that fail client authentication (the limit runs before the guard)', async () => {
    const client = await createClient(t.dataSource);
    const wrong = { client_id: client.clientId, client_secret: 'guess', connection: 'email', email: uniqueEmail() };
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await t.post('/passwordless/start', wrong)).status);
    const valid = await t.post('/passwordless/start', { ...wrong, client_secret: client.secret });
    expect(statuses).toEqual([401, 401, 401]);
    expect(valid.status).toBe(429);
    expect(valid.body.error).toBe('too_many_requests');
  });

  it('should answer 429, not the request’s own error, once the IP is over its limit (no oracle for guessed secrets)', async () => {
    const client = await createClient(t.dataSource);
    const ip = { 'x-forwarded-for': uniqueIp() };
    const body = {
      client_id: client.clientId,
      client_secret: client.secret,
      connection: 'email',
      email: uniqueEmail(),
    };
    const answers = [];
    for (const attempt of [body, { ...body, email: 'not-an-email' }, { ...body, client_secret: 'guess' }]) {
      const res = await t.post('/passwordless/start', attempt, ip);
      answers.push([res.status, res.headers.get('x-ratelimit-remaining')]);
    }
    expect(answers).toEqual([
      [200, '2'],
      [400, '1'],
      [401, '0'],
    ]);
    for (const attempt of [
      { ...body, client_secret: 'guess' },
      { ...body, email: 'not-an-email' },
      { ...body, client_id: 'unknown' },
      { ...body, email: uniqueEmail() },
    ]) {
      const res = await t.post('/passwordless/start', attempt, ip);
      expect([res.status, res.body.error, res.headers.get('x-ratelimit-remaining')]).toEqual([
        429,
        'too_many_requests',
        '0',
      ]);
    }
  });
});
