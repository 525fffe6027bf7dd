import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import IORedis, { type Redis } from 'ioredis';
import { AppConfig } from '../config/app-config';

export const REDIS = Symbol('REDIS');

/**
 * Shared ioredis client for request-path commands (jti replay, rate limits); fails fast instead of queueing.
 * Auto-pipelining sends the commands of all requests handled in one event-loop turn as one write: on a busy API a
 * socket write per command was the largest single CPU cost of a start (docs/benchmarks.md).
 */
export function createRequestRedis(config: AppConfig): Redis {
  return new IORedis(config.redis.url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    lazyConnect: false,
    enableAutoPipelining: true,
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

