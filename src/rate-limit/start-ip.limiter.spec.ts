import { ApiError } from '../common/api-error';
import type { Clock } from '../common/clock';
import type { AppConfig } from '../config/app-config';
import type { LimitDecision, LimitRule, SlidingWindowStore } from './sliding-window.store';
import { StartIpCharge, StartIpLimiter } from './start-ip.limiter';

const HOUR_MS = 3_600_000;

/** The limiter's own logic (the sliding-window e2e spec covers the Redis script): a store that refuses on demand. */
describe(StartIpLimiter.name, () => {
  let nowMs: number;
  let refuseUntilMs: number | undefined;
  let consume: jest.Mock<Promise<LimitDecision>, [LimitRule[]]>;
  let limiter: StartIpLimiter;

  /** Every rule charged once; `denied` names the refused rule and when the request would fit. */
  const decisionFor = (rules: LimitRule[], denied?: { index: number; retryAtMs: number }): LimitDecision => {
    const states = rules.map((rule) => ({
      rule,
      count: 1,
      remaining: rule.limit - 1,
      resetAtMs: nowMs + HOUR_MS,
      bucket: 0,
    }));
    return denied === undefined
      ? { allowed: true, states }
      : { allowed: false, states, denied: { state: states[denied.index], retryAtMs: denied.retryAtMs } };
  };

  beforeEach(() => {
    nowMs = Date.UTC(2026, 10, 26, 12, 0, 0);
    refuseUntilMs = undefined;
    consume = jest.fn((rules: LimitRule[]) =>
      Promise.resolve(
        decisionFor(rules, refuseUntilMs === undefined ? undefined : { index: 0, retryAtMs: refuseUntilMs }),
      ),
    );
    const clock: Pick<Clock, 'now'> = { now: () => new Date(nowMs) };
    const config = { rateLimit: { startWindowMs: HOUR_MS } } as AppConfig;
    limiter = new StartIpLimiter({ consume } as unknown as SlidingWindowStore, config, clock);
  });

  /** One start from `ip` as StartCallerGuard makes it: the remembered refusals, then the charge. */
  const attempt = async (ip: string): Promise<ApiError | Record<string, string>> => {
    try {
      limiter.refuseIfRemembered(ip, 50);
      return await limiter.charge({ ip, limit: 50 });
    } catch (err) {
      return err as ApiError;
    }
  };
  const status = async (ip: string) => {
    const outcome = await attempt(ip);
    return outcome instanceof ApiError ? outcome.status : 200;
  };

  it('should answer the charged IP’s X-RateLimit headers', async () => {
    expect(await attempt('203.0.113.9')).toEqual({
      'X-RateLimit-Limit': '50',
      'X-RateLimit-Remaining': '49',
      'X-RateLimit-Reset': String(Math.ceil((nowMs + HOUR_MS) / 1000)),
    });
  });

  it('should refuse an IP it refused again without asking Redis, until the retry time', async () => {
    refuseUntilMs = nowMs + 10_000;
    expect(await status('203.0.113.1')).toBe(429);
    expect(await status('203.0.113.1')).toBe(429);
    expect(consume).toHaveBeenCalledTimes(1);
    expect(await status('203.0.113.2')).toBe(429);
    expect(consume).toHaveBeenCalledTimes(2);

    refuseUntilMs = undefined;
    nowMs += 10_000;
    expect(await status('203.0.113.1')).toBe(200);
    expect(consume).toHaveBeenCalledTimes(3);
  });

  it('should ask Redis again after a minute even when the retry time is later (an operator may have reset the key)', async () => {
    refuseUntilMs = nowMs + HOUR_MS;
    expect(await status('203.0.113.3')).toBe(429);
    nowMs += 59_000;
    expect(await status('203.0.113.3')).toBe(429);
    expect(consume).toHaveBeenCalledTimes(1);
    refuseUntilMs = undefined;
    nowMs += 1_000;
    expect(await status('203.0.113.3')).toBe(200);
    expect(consume).toHaveBeenCalledTimes(2);
  });

  it('should answer a remembered refusal with the same 429 headers, Retry-After counting down', async () => {
    refuseUntilMs = nowMs + 30_000;
    const first = (await attempt('203.0.113.4')) as ApiError;
    nowMs += 10_000;
    const second = (await attempt('203.0.113.4')) as ApiError;
    expect(first).toBeInstanceOf(ApiError);
    expect(second.toBody()).toEqual(first.toBody());
    expect(second.headers).toEqual({ ...first.headers, 'Retry-After': '20' });
    expect(first.headers['Retry-After']).toBe('30');
  });

  it('should check a moved start’s connecting IP without charging it, before the user’s IP', async () => {
    await limiter.charge({ ip: '198.51.100.7', limit: 1, movedFrom: { ip: '203.0.113.5', limit: 50 } });
    const [rules] = consume.mock.calls[0];
    expect(rules.map((r) => [r.key, r.limit, r.checkOnly ?? false])).toEqual([
      ['start-ip:203.0.113.5', 50, true],
      ['start-ip:198.51.100.7', 1, false],
    ]);
  });

  describe('a charge made with the start’s other limits', () => {
    const otherRule: LimitRule = { name: 'start-identifier', key: 'start-id:x', limit: 5, windowMs: HOUR_MS };

    it('should lead with the IP’s rules, take its headers from the call, and not charge again', async () => {
      const charge = new StartIpCharge({ ip: '203.0.113.6', limit: 50 });
      const rules = [...limiter.rules(charge), otherRule];
      limiter.settle(charge, decisionFor(rules));
      expect(charge.headers).toMatchObject({ 'X-RateLimit-Limit': '50', 'X-RateLimit-Remaining': '49' });
      await limiter.chargeOnce(charge);
      expect(consume).not.toHaveBeenCalled();
    });

    it('should throw and remember the IP’s 429 when a leading rule refused, and leave other refusals to the caller', async () => {
      const refusedIp = new StartIpCharge({ ip: '203.0.113.7', limit: 50 });
      expect(() =>
        limiter.settle(
          refusedIp,
          decisionFor([...limiter.rules(refusedIp), otherRule], { index: 0, retryAtMs: nowMs + 5_000 }),
        ),
      ).toThrow(expect.objectContaining({ status: 429 }));
      expect(await status('203.0.113.7')).toBe(429);
      expect(consume).not.toHaveBeenCalled();

      const refusedOther = new StartIpCharge({ ip: '203.0.113.8', limit: 50 });
      expect(() =>
        limiter.settle(
          refusedOther,
          decisionFor([...limiter.rules(refusedOther), otherRule], { index: 1, retryAtMs: nowMs + 5_000 }),
        ),
      ).not.toThrow();
      expect(refusedOther.made).toBe(true);
    });
  });
});
