import { join } from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import type { AppConfig } from '../config/app-config';
import { RedactingTypeOrmLogger } from './redacting-typeorm.logger';
import { ClientEntity } from '../clients/client.entity';
import { OutboxEntity } from '../delivery/outbox.entity';
import { ConnectionEntity } from '../verification/connection.entity';
import { VerificationEntity } from '../verification/verification.entity';

export const ENTITIES = [ClientEntity, ConnectionEntity, VerificationEntity, OutboxEntity];

/** Migrations are loaded from files so that `npm run client:new` can add one without touching code. */
export const MIGRATIONS_GLOB = join(__dirname, 'migrations', '*-*.{ts,js}');

export function dataSourceOptions(config: AppConfig): DataSourceOptions {
  return {
    type: 'postgres',
    url: config.databaseUrl,
    entities: ENTITIES,
    migrations: [MIGRATIONS_GLOB],
    migrationsTableName: 'migrations',
    synchronize: false,
    logging: ['error', 'warn', 'migration'],
    logger: new RedactingTypeOrmLogger(),
    maxQueryExecutionTime: 1000,
    extra: { max: config.databasePoolSize },
  };
}
