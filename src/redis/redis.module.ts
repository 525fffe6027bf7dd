import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import IORedis, { type Redis } from 'ioredis';
import { AppConfig } from '../config/app-config';

export const REDIS = Symbol('REDIS');

/**
 * Shared ioredis client for request-path commands (jti replay, rate limits); fails fast instead of queueing.
 * No auto-pipelining: it keeps one pipeline in flight per connection, so a command issued while one is out waits for
 * that reply before it is even written (docs/decisions/011-request-redis-without-auto-pipelining.md).
 */
export function createRequestRedis(config: AppConfig): Redis {
  return new IORedis(config.redis.url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    lazyConnect: false,
    enableAutoPipelining: false,
  });
}

@Global()
@Module({
  providers: [{ provide: REDIS, inject: [AppConfig], useFactory: createRequestRedis }],
  exports: [REDIS],
})
export class RedisModule implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
