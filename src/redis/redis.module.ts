import { Global, Inject, Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import type { RedisOptions } from 'ioredis';
import { OutageLog } from '../common/outage-log';
import { AppConfig } from '../config/app-config';
import { closeRedis, connectRedis, describeRedis, type RedisClient } from './redis-connection';

export const REDIS = Symbol('REDIS');

/**
 * Shared ioredis client for request-path commands (jti replay, rate limits); fails fast instead of queueing.
 * No auto-pipelining: it keeps one pipeline in flight per connection, so a command issued while one is out waits for
 * that reply before it is even written (docs/decisions/011-request-redis-without-auto-pipelining.md).
 */
export function createRequestRedis(config: AppConfig): RedisClient {
  const redis = connectRedis(config.redis, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    lazyConnect: false,
    enableAutoPipelining: false,
  });
  // Each command that fails reports the outage where it matters; the connection's own errors are logged once.
  const outage = new OutageLog(new Logger('Redis'), describeRedis(config.redis));
  redis.on('error', (err) => outage.failed(err));
  redis.on('ready', () => outage.recovered());
  return redis;
}

/**
 * Connections other modules open for their own use (BullMQ's queues and workers share one each), closed once the
 * application has stopped using them.
 */
@Injectable()
export class RedisConnections implements OnApplicationShutdown {
  private readonly opened: RedisClient[] = [];

  constructor(private readonly config: AppConfig) {}

  open(options: RedisOptions): RedisClient {
    const client = connectRedis(this.config.redis, options);
    this.opened.push(client);
    return client;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.opened.map(closeRedis));
  }
}

@Global()
@Module({
  providers: [{ provide: REDIS, inject: [AppConfig], useFactory: createRequestRedis }, RedisConnections],
  exports: [REDIS, RedisConnections],
})
export class RedisModule implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: RedisClient) {}

  async onApplicationShutdown(): Promise<void> {
    await closeRedis(this.redis);
  }
}
