import { createClient, uniqueEmail } from '../utils/factories';
import { startTestApp, type TestApp } from '../utils/test-app';

describe('POST /passwordless/start per-IP limit', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { RATE_LIMIT_START_PER_IP: '3', REDIS_PREFIX: `${process.env.REDIS_PREFIX}-order` } });
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
});
