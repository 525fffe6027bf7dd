import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import type { Redis } from 'ioredis';
import { AppConfig } from '../config/app-config';
import { REDIS } from '../redis/redis.module';
import { FailOpenThrottlerStorage } from './fail-open-throttler.storage';
import { StartThrottlerGuard } from './start-throttler.guard';

@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [AppConfig, REDIS],
      useFactory: (config: AppConfig, redis: Redis) => ({
        throttlers: [{ name: 'default', ttl: config.rateLimit.startWindowMs, limit: config.rateLimit.startPerIp }],
        // Redis-backed so every API replica enforces one shared limit (atomic Lua INCR + PEXPIRE).
        storage: new FailOpenThrottlerStorage(new ThrottlerStorageRedisService(redis), config.redis.prefix),
      }),
    }),
  ],
  providers: [StartThrottlerGuard],
  exports: [ThrottlerModule, StartThrottlerGuard],
})
export class RateLimitModule {}
