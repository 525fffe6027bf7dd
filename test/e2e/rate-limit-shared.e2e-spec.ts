import { SlidingWindowThrottlerStorage } from '../../src/rate-limit/sliding-window.throttler-storage';
import { createClient, uniqueEmail, type TestClient } from '../utils/factories';
import { isolatedRedisPrefix, startTestApp, type TestApp } from '../utils/test-app';

describe('Rate limits shared by two API instances on one Redis', () => {
  let apps: TestApp[];
  let client: TestClient;

  beforeAll(async () => {
    const env = { REDIS_PREFIX: isolatedRedisPrefix(), RATE_LIMIT_START_PER_IP: '5' };
    apps = await Promise.all([startTestApp({ env }), startTestApp({ env })]);
    client = await createClient(apps[0].dataSource);
  });

  afterAll(() => Promise.all(apps.map((app) => app.close())));

  const start = (app: TestApp, email: string) =>
    app.post('/passwordless/start', {
      client_id: client.clientId,
      client_secret: client.secret,
      connection: 'email',
      email,
      send: 'code',
    });

  it('should admit exactly the per-IP limit across both instances, even for concurrent requests, and store only those', async () => {
    const emails = Array.from({ length: 12 }, uniqueEmail);
    const responses = await Promise.all(emails.map((email, i) => start(apps[i % 2], email)));

    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(7);
    const stored = await apps[0].dataSource.query(
      'SELECT count(*)::int AS n FROM verifications WHERE identifier = ANY($1)',
      [emails],
    );
    expect(stored[0].n).toBe(5);
    const remaining = responses.filter((r) => r.status === 200).map((r) => r.headers.get('x-ratelimit-remaining'));
    expect(remaining.sort()).toEqual(['0', '1', '2', '3', '4']);
  });

  it('should count a @nestjs/throttler key once across both instances through the shared storage', async () => {
    const [first, second] = apps.map((app) => app.app.get(SlidingWindowThrottlerStorage));
    const key = `shared-${uniqueEmail()}`;
    const a = await first.increment(key, 60_000, 2, 0, 'default');
    const b = await second.increment(key, 60_000, 2, 0, 'default');
    const c = await first.increment(key, 60_000, 2, 0, 'default');
    expect([a.totalHits, a.isBlocked, b.totalHits, b.isBlocked, c.isBlocked]).toEqual([1, false, 2, false, true]);
    expect(c.timeToBlockExpire).toBeGreaterThan(0);
  });
});
