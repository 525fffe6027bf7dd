import { Inject, Injectable } from '@nestjs/common';
import type { RedisClient } from '../redis/redis-connection';
import { AppConfig } from '../config/app-config';
import { REDIS } from '../redis/redis.module';

/** Remembers client-assertion `jti`s until they expire, atomically (SET NX), so each assertion is single-use. */
@Injectable()
export class AssertionReplayStore {
  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly config: AppConfig,
  ) {}

  /** True the first time a (client, jti) pair is seen within `ttlMs`; false on every replay. */
  async markUsed(clientId: string, jti: string, ttlMs: number): Promise<boolean> {
    const key = `${this.config.redis.prefix}:jti:${clientId}:${jti}`;
    const result = await this.redis.set(key, '1', 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX');
    return result === 'OK';
  }
}
