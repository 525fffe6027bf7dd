import IORedis from 'ioredis';
import type { AppConfig } from '../../src/config/app-config';
import { enableMetrics } from '../../src/observability/metrics';
import { SlidingWindowStore, type LimitRule } from '../../src/rate-limit/sliding-window.store';

/**
 * Limits fail open while Redis is unreachable (docs/threat-model.md): operators must be able to see it in the metrics,
 * not only in a log line. A real Redis connection, dropped and restored.
 */
describe('rate-limit store outage metrics', () => {
  const rule: LimitRule = { name: 'start-ip', key: 'start-ip:203.0.113.1', limit: 5, windowMs: 60_000 };
  let redis: IORedis;
  let store: SlidingWindowStore;

  beforeAll(async () => {
    redis = new IORedis(process.env.REDIS_URL!, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      lazyConnect: true,
    });
    await redis.connect();
    store = new SlidingWindowStore(redis, { redis: { prefix: process.env.REDIS_PREFIX! } } as AppConfig);
  });

  afterAll(() => redis.disconnect());

  const value = async (name: string) => (await enableMetrics().registry.getSingleMetric(name)!.get()).values[0].value;

  it('should count failed store calls and show the outage until a call succeeds again', async () => {
    expect((await store.consume([rule], Date.now())).allowed).toBe(true);
    const failuresBefore = await value('pwl_rate_limit_store_failures_total');
    expect(await value('pwl_rate_limit_store_down')).toBe(0);

    redis.disconnect();
    expect((await store.consume([rule], Date.now())).unavailable).toBe(true);
    expect((await store.consume([rule], Date.now())).unavailable).toBe(true);
    expect(await value('pwl_rate_limit_store_failures_total')).toBe(failuresBefore + 2);
    expect(await value('pwl_rate_limit_store_down')).toBe(1);

    if (redis.status !== 'end') await new Promise((resolve) => redis.once('end', resolve));
    await redis.connect();
    expect((await store.consume([rule], Date.now())).unavailable).toBeUndefined();
    expect(await value('pwl_rate_limit_store_down')).toBe(0);
  });
});
