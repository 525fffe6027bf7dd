import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { AppConfig } from '../config/app-config';
import { REDIS } from '../redis/redis.module';

/** Remembers client-assertion `jti`s until they expire, atomically (SET NX), so each assertion is single-use. */
@Injectable()
export class AssertionReplayStore {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly config: AppConfig,
  ) {}

  /** True the first time a (client, jti) pair is seen within `ttlMs`; false on every replay. */
  async markUsed(clientId: string, jti: string, ttlMs: number): Promise<boolean> {
    const mark = this.mark(clientId, jti, ttlMs);
    const result = await this.redis.set(mark.redisKey, '1', 'PX', mark.ttlMs, 'NX');
    return result === 'OK';
  }

  /** The key and TTL (whole milliseconds, at least 1) markUsed sets, for a caller that sets it in a call of its own. */
  mark(clientId: string, jti: string, ttlMs: number): ReplayMark {
    return { redisKey: `${this.config.redis.prefix}:jti:${clientId}:${jti}`, ttlMs: Math.max(1, Math.ceil(ttlMs)) };
  }
}

/** A client assertion's single-use mark: set `redisKey` for `ttlMs` only if absent; present means replayed. */
export interface ReplayMark {
  redisKey: string;
  ttlMs: number;
}
