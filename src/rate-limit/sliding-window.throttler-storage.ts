import { Injectable } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface';
import { Clock } from '../common/clock';
import { SlidingWindowStore } from './sliding-window.store';

/**
 * @nestjs/throttler's storage contract on top of our Redis sliding window (one atomic Lua call, shared by every API
 * replica, fails open without Redis). Used by any plain ThrottlerGuard; StartIpLimiter talks to the store directly
 * because it also needs the epoch reset time and refunds.
 */
@Injectable()
export class SlidingWindowThrottlerStorage implements ThrottlerStorage {
  constructor(
    private readonly store: SlidingWindowStore,
    private readonly clock: Clock,
  ) {}

  async increment(
    key: string,
    ttl: number,
    limit: number,
    _blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    const now = this.clock.now().getTime();
    const decision = await this.store.consume(
      [{ name: throttlerName, key: `throttler:${throttlerName}:${key}`, limit, windowMs: ttl }],
      now,
    );
    const state = decision.states[0];
    const secondsUntil = (atMs: number) => Math.max(0, Math.ceil((atMs - now) / 1000));
    return {
      totalHits: state ? state.count + (decision.allowed ? 0 : 1) : 0,
      timeToExpire: state ? secondsUntil(state.resetAtMs) : Math.ceil(ttl / 1000),
      isBlocked: !decision.allowed,
      timeToBlockExpire: decision.denied ? secondsUntil(decision.denied.retryAtMs) : 0,
    };
  }
}
