import { Global, Inject, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { OutageLog } from '../common/outage-log';
import IORedis, { type Redis } from 'ioredis';
import { AppConfig } from '../config/app-config';

export const REDIS = Symbol('REDIS');

/**
 * Shared ioredis client for request-path commands (jti replay, rate limits); fails fast instead of queueing.
 * No auto-pipelining: it keeps one pipeline in flight per connection, so a command issued while one is out waits for
 * that reply before it is even written (docs/decisions/011-request-redis-without-auto-pipelining.md).
 */
export function createRequestRedis(config: AppConfig): Redis {
  const redis = new IORedis(config.redis.url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    lazyConnect: false,
    enableAutoPipelining: false,
  });
  // Each command that fails reports the outage where it matters; the connection's own errors are logged once.
  const outage = new OutageLog(new Logger('Redis'), `Redis at REDIS_URL=${redactedUrl(config.redis.url)}`);
  redis.on('error', (err) => outage.failed(err));
  redis.on('ready', () => outage.recovered());
  return redis;
}

/** The URL without its password, for logs. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'invalid URL';
  }
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
