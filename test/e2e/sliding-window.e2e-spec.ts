import type { Redis } from 'ioredis';
import { SlidingWindowStore, type LimitRule } from '../../src/rate-limit/sliding-window.store';
import { REDIS } from '../../src/redis/redis.module';
import { isolatedRedisPrefix, startTestApp, type TestApp } from '../utils/test-app';

/** The Redis sliding window itself, at explicit times: a 60 s window has 1 s buckets. */
describe('SlidingWindowStore', () => {
  let t: TestApp;
  let store: SlidingWindowStore;
  let redis: Redis;
  let keys = 0;
  const t0 = 1_800_000_000_000;
  const rule = (limit: number): LimitRule => ({ name: 'test', key: `window-test:${++keys}`, limit, windowMs: 60_000 });
  const redisKey = (r: LimitRule) => `${t.config.redis.prefix}:{rl}:${r.key}`;
  const counts = async (r: LimitRule, times: number[]) => {
    const seen = [];
    for (const at of times) {
      const decision = await store.consume([r], at);
      seen.push(decision.allowed ? decision.states[0].count : 'refused');
    }
    return seen;
  };

  beforeAll(async () => {
    t = await startTestApp({ env: { REDIS_PREFIX: isolatedRedisPrefix() } });
    store = t.app.get(SlidingWindowStore);
    redis = t.app.get<Redis>(REDIS);
  });
  afterAll(() => t.close());

  it('should count hits across buckets, refuse at the limit until the oldest bucket leaves, and count refunds', async () => {
    const r = rule(5);
    expect(await counts(r, [t0, t0, t0, t0 + 1000, t0 + 1000])).toEqual([1, 2, 3, 4, 5]);
    const refused = await store.consume([r], t0 + 1500);
    expect([refused.allowed, refused.denied?.retryAtMs, refused.states[0].resetAtMs]).toEqual([false, t0 + 60_000, t0 + 60_000]);

    const charged = await store.consume([{ ...r, limit: 6 }], t0 + 1500);
    await store.refund(charged.states[0]);
    // The refund counts at once: a sixth hit fits again, once.
    expect(await counts({ ...r, limit: 6 }, [t0 + 1500, t0 + 1500])).toEqual([6, 'refused']);
    // The first bucket's 3 hits leave the window at t0 + 60 s; the second's 3 remain.
    expect(await counts(r, [t0 + 59_999, t0 + 60_000, t0 + 60_000, t0 + 60_000])).toEqual(['refused', 4, 5, 'refused']);
    expect((await store.consume([r], t0 + 60_000)).states[0].resetAtMs).toBe(t0 + 61_000);
  });

  it('should recount a key whose cached sum a previous version dropped or did not update, from the next bucket on', async () => {
    const r = rule(10);
    expect(await counts(r, [t0, t0])).toEqual([1, 2]);
    await redis.hdel(redisKey(r), '-1', '-2', '-3'); // what the previous script does to fields it reads as buckets
    expect(await counts(r, [t0])).toEqual([3]);
    await redis.hincrby(redisKey(r), String(t0 / 1000), -2); // the previous refund script leaves the sum alone
    expect(await counts(r, [t0 + 1000])).toEqual([2]);
  });
});
