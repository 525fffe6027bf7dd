import { Module } from '@nestjs/common';
import { CommonModule } from '../common/common.module';
import { ConfigModule } from '../config/config.module';
import { DatabaseModule } from '../database/database.module';
import { HealthModule } from '../health/health.module';
import { RedisModule } from '../redis/redis.module';
import { RelayHealthServer } from './relay-health.server';
import { RelayModule } from './relay.module';

/** The relay process (src/relay.ts): the relay role and its probe endpoint. */
@Module({
  imports: [ConfigModule, CommonModule, DatabaseModule.forRoot(), RedisModule, HealthModule, RelayModule],
  providers: [RelayHealthServer],
})
export class RelayProcessModule {}
