import type { ExecutionContext } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../common/api-error';
import type { Clock } from '../common/clock';
import type { AppConfig } from '../config/app-config';
import type { LimitDecision, LimitRule, SlidingWindowStore } from './sliding-window.store';
import { StartIpCounter } from './start-ip-limit.guard';

const HOUR_MS = 3_600_000;

/** The counter's own logic (the Redis script is covered by the sliding-window e2e spec): a store that refuses on demand. */
describe(StartIpCounter.name, () => {
  let nowMs: number;
  let refuseUntilMs: number | undefined;
  let consume: jest.Mock<Promise<LimitDecision>, [LimitRule[]]>;
  let counter: StartIpCounter;

  beforeEach(() => {
    nowMs = Date.UTC(2026, 10, 26, 12, 0, 0);
    refuseUntilMs = undefined;
    consume = jest.fn((rules: LimitRule[]): Promise<LimitDecision> => {
      const states = rules.map((rule) => ({
        rule,
        count: 1,
        remaining: rule.limit - 1,
        resetAtMs: nowMs + HOUR_MS,
        bucket: 0,
      }));
      if (refuseUntilMs === undefined) return Promise.resolve({ allowed: true, states });
      return Promise.resolve({ allowed: false, states, denied: { state: states[0], retryAtMs: refuseUntilMs } });
    });
    const clock: Pick<Clock, 'now'> = { now: () => new Date(nowMs) };
    const config = { rateLimit: { startWindowMs: HOUR_MS } } as AppConfig;
    counter = new StartIpCounter({ consume } as unknown as SlidingWindowStore, config, clock);
  });

  const context = (): ExecutionContext => {
    const request = { headers: {} } as FastifyRequest;
    const reply = { headers: jest.fn() } as unknown as FastifyReply;
    return {
      switchToHttp: () => ({ getRequest: () => request, getResponse: () => reply }),
    } as unknown as ExecutionContext;
  };
  /** One start from `ip`: begin, then the charge its limiter makes. Resolves to the status it would answer. */
  const start = async (ip: string): Promise<number> => {
    try {
      const charge = counter.begin(context(), ip, 50);
      await counter.charge(charge, [], nowMs);
      return 200;
    } catch (err) {
      return (err as ApiError).status;
    }
  };

  it('should refuse an IP it refused again without asking Redis, until the retry time', async () => {
    refuseUntilMs = nowMs + 10_000;
    expect(await start('203.0.113.1')).toBe(429);
    expect(await start('203.0.113.1')).toBe(429);
    expect(consume).toHaveBeenCalledTimes(1);
    expect(await start('203.0.113.2')).toBe(429);
    expect(consume).toHaveBeenCalledTimes(2);

    refuseUntilMs = undefined;
    nowMs += 10_000;
    expect(await start('203.0.113.1')).toBe(200);
    expect(consume).toHaveBeenCalledTimes(3);
  });

  it('should ask Redis again after a minute even when the retry time is later (an operator may have reset the key)', async () => {
    refuseUntilMs = nowMs + HOUR_MS;
    expect(await start('203.0.113.3')).toBe(429);
    nowMs += 59_000;
    expect(await start('203.0.113.3')).toBe(429);
    expect(consume).toHaveBeenCalledTimes(1);
    refuseUntilMs = undefined;
    nowMs += 1_000;
    expect(await start('203.0.113.3')).toBe(200);
    expect(consume).toHaveBeenCalledTimes(2);
  });

  it('should answer a remembered refusal with the same 429 headers, Retry-After counting down', async () => {
    refuseUntilMs = nowMs + 30_000;
    const first = await counter
      .charge(counter.begin(context(), '203.0.113.4', 50), [], nowMs)
      .catch((err: ApiError) => err);
    nowMs += 10_000;
    const second = (() => {
      try {
        counter.begin(context(), '203.0.113.4', 50);
        return undefined;
      } catch (err) {
        return err as ApiError;
      }
    })();
    expect(first).toBeInstanceOf(ApiError);
    expect(second?.toBody()).toEqual((first as ApiError).toBody());
    expect(second?.headers).toEqual({ ...(first as ApiError).headers, 'Retry-After': '20' });
    expect((first as ApiError).headers['Retry-After']).toBe('30');
  });
});
