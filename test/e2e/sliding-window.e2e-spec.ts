import type { Redis } from 'ioredis';
import { rateLimitKey, SlidingWindowStore, type LimitRule } from '../../src/rate-limit/sliding-window.store';
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
  const redisKey = (r: LimitRule) => rateLimitKey(t.config.redis.prefix, r.key);
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
    expect([refused.allowed, refused.denied?.retryAtMs, refused.states[0].resetAtMs]).toEqual([
      false,
      t0 + 60_000,
      t0 + 60_000,
    ]);

    const charged = await store.consume([{ ...r, limit: 6 }], t0 + 1500);
    await store.refund([charged.states[0]]);
    // The refund counts at once: a sixth hit fits again, once.
    expect(await counts({ ...r, limit: 6 }, [t0 + 1500, t0 + 1500])).toEqual([6, 'refused']);
    // The first bucket's 3 hits leave the window at t0 + 60 s; the second's 3 remain.
    expect(await counts(r, [t0 + 59_999, t0 + 60_000, t0 + 60_000, t0 + 60_000])).toEqual(['refused', 4, 5, 'refused']);
    expect((await store.consume([r], t0 + 60_000)).states[0].resetAtMs).toBe(t0 + 61_000);
  });

  it('should give back the charges of several rules in one refund', async () => {
    const [a, b] = [rule(1), rule(1)];
    const charged = await store.consume([a, b], t0);
    expect(await counts(a, [t0])).toEqual(['refused']);
    await store.refund(charged.states);
    expect(await counts(a, [t0])).toEqual([1]);
    expect(await counts(b, [t0])).toEqual([1]);
  });

  it('should recount a key whose cached sum a previous version dropped or did not update, from the next bucket on', async () => {
    const r = rule(10);
    expect(await counts(r, [t0, t0])).toEqual([1, 2]);
    await redis.hdel(redisKey(r), '-1', '-2', '-3'); // what the previous script does to fields it reads as buckets
    expect(await counts(r, [t0])).toEqual([3]);
    await redis.hincrby(redisKey(r), String(t0 / 1000), -2); // the previous refund script leaves the sum alone
    expect(await counts(r, [t0 + 1000])).toEqual([2]);
  });

  describe('in two tiers (a trusted backend’s start: its own IP checked, its user’s IP charged)', () => {
    /** Current hits of each rule, read without charging (cost 0). */
    const hits = async (...rules: LimitRule[]) =>
      (
        await store.consume(
          rules.map((r) => ({ ...r, cost: 0 })),
          t0,
        )
      ).states.map((state) => state.count);

    it('should answer with the first exceeded leading rule, not the one that frees up last', async () => {
      const [connecting, user] = [rule(1), rule(1)];
      await store.consume([connecting], t0);
      await store.consume([user], t0 + 5000);
      const refused = await store.consume([{ ...connecting, checkOnly: true }, user], t0 + 5000, { leading: 2 });
      expect([refused.denied?.state.rule.key, refused.denied?.retryAtMs]).toEqual([connecting.key, t0 + 60_000]);
    });

    it('should refuse on a check-only rule without ever charging it', async () => {
      const [connecting, user] = [rule(2), rule(5)];
      for (let i = 0; i < 3; i++)
        expect((await store.consume([{ ...connecting, checkOnly: true }, user], t0, { leading: 2 })).allowed).toBe(
          true,
        );
      expect(await hits(connecting, user)).toEqual([0, 3]);
      await store.consume([connecting], t0);
      await store.consume([connecting], t0);
      const refused = await store.consume([{ ...connecting, checkOnly: true }, user], t0, { leading: 2 });
      expect([refused.allowed, refused.denied?.state.rule.key]).toEqual([false, connecting.key]);
      expect(await hits(connecting, user)).toEqual([2, 3]);
    });
  });
});
