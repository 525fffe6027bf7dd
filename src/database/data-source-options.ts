import { join } from 'node:path';
import { Client, type ClientConfig } from 'pg';
import type { DataSourceOptions } from 'typeorm';
import type { AppConfig } from '../config/app-config';
import { RedactingTypeOrmLogger } from './redacting-typeorm.logger';
/** Migrations are loaded from files so that `npm run client:new` can add one without touching code. */
export const MIGRATIONS_GLOB = join(__dirname, 'migrations', '*-*.{ts,js}');

/**
 * A pg client that is never without an 'error' listener. pg-pool listens only while a client is idle, and TypeORM not
 * at all while one is checked out: a server that drops the connection then (restart, failover, pg_terminate_backend)
 * between two statements of a transaction emitted an unhandled 'error' and ended the process. The error needs no
 * handling here: the next statement on the client fails with it, and the pool discards the client.
 */
class ListenedClient extends Client {
  constructor(config?: string | ClientConfig) {
    super(config);
    this.on('error', () => undefined);
  }
}

export interface SessionOptions {
  /**
   * Keep generic plans for named statements (the worker's array-parameter lookups by primary key would otherwise be
   * re-planned on every call). Not for the API: its PL/pgSQL start function needs plans made for its actual input.
   */
  genericPlans?: boolean;
  /** Migrations may take long (index builds, waiting for another replica's migration lock): no timeouts. */
  noTimeouts?: boolean;
}

export function dataSourceOptions(config: AppConfig, session: SessionOptions = {}): DataSourceOptions {
  const { statementTimeoutMs, connectTimeoutMs, idleInTransactionTimeoutMs } = config.database;
  const timeouts = session.noTimeouts
    ? {}
    : {
        // Server-side limits, and a client-side one a little later for a server that does not answer at all.
        statement_timeout: statementTimeoutMs,
        idle_in_transaction_session_timeout: idleInTransactionTimeoutMs,
        query_timeout: statementTimeoutMs + 1000,
      };
  return {
    type: 'postgres',
    url: config.databaseUrl,
    migrations: [MIGRATIONS_GLOB],
    migrationsTableName: 'migrations',
    synchronize: false,
    logging: ['error', 'warn', 'migration'],
    logger: new RedactingTypeOrmLogger(),
    maxQueryExecutionTime: 1000,
    extra: {
      Client: ListenedClient,
      max: config.databasePoolSize,
      // Also bounds the wait for a free pool client: a stalled database answers 503 instead of queueing requests.
      connectionTimeoutMillis: connectTimeoutMs,
      keepAlive: true,
      ...timeouts,
      ...(session.genericPlans ? { options: '-c plan_cache_mode=force_generic_plan' } : {}),
    },
  };
}
