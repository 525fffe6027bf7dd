import { Transform } from 'class-transformer';
import { IsBoolean, IsInt, Matches, Max, Min } from 'class-validator';
import { configSection } from '../config-section';
import { toBool, toInt } from '../env-transforms';

class DatabaseVars {
  @Matches(/^postgres(ql)?:\/\//, { message: 'a postgres:// URL' }) DATABASE_URL =
    'postgres://postgres@127.0.0.1:5432/passwordless';
  @Transform(toInt) @IsInt() @Min(1) @Max(200) DATABASE_POOL_SIZE = 10;
  @Transform(toBool) @IsBoolean() MIGRATIONS_RUN = true;
  @Transform(toInt) @IsInt() @Min(0) @Max(300_000) LOOKUP_CACHE_TTL_MS = 5000;
  @Transform(toInt) @IsInt() @Min(100) @Max(600_000) DATABASE_STATEMENT_TIMEOUT_MS = 5000;
  @Transform(toInt) @IsInt() @Min(100) @Max(600_000) DATABASE_CONNECT_TIMEOUT_MS = 3000;
  @Transform(toInt) @IsInt() @Min(100) @Max(600_000) DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS = 10_000;
}

export interface DatabaseConfig {
  readonly databaseUrl: string;
  readonly databasePoolSize: number;
  readonly migrationsRun: boolean;
  /** How long a client or connection row read on the request path is reused (0: read every time). */
  readonly lookupCacheTtlMs: number;
  readonly database: { statementTimeoutMs: number; connectTimeoutMs: number; idleInTransactionTimeoutMs: number };
}

export const databaseSection = configSection({
  vars: DatabaseVars,
  build: (vars): DatabaseConfig => ({
    databaseUrl: vars.DATABASE_URL,
    databasePoolSize: vars.DATABASE_POOL_SIZE,
    migrationsRun: vars.MIGRATIONS_RUN,
    lookupCacheTtlMs: vars.LOOKUP_CACHE_TTL_MS,
    database: {
      statementTimeoutMs: vars.DATABASE_STATEMENT_TIMEOUT_MS,
      connectTimeoutMs: vars.DATABASE_CONNECT_TIMEOUT_MS,
      idleInTransactionTimeoutMs: vars.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    },
  }),
});
