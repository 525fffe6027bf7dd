import IORedis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { loadConfig } from '../src/config/app-config';
import { dataSourceOptions } from '../src/database/data-source-options';
import { ensureDatabaseExists, runMigrationsLocked } from '../src/database/migration-runner';
import { RandomSource } from '../src/common/random.source';
import { newRecordId } from '../src/verification/record-id';
import { SecretHasher } from '../src/verification/secret-hasher';
import { floorCodeHmac } from './floor/floor-code-hmac';
import { createClient, type TestClient } from '../test/utils/factories';
import { deleteKeysWithPrefix } from '../test/utils/redis-keys';

const ADMIN_DATABASE_URL = process.env.BENCH_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const BENCH_REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Every limit the benchmark sets: high enough never to trip, so it measures the cost of counting, not of refusing. */
export const NEVER_REACHED = 1_000_000_000;
const DEADLOCK_DETECTED = '40P01';
const RESET_ATTEMPTS = 5;
const RESET_RETRY_MS = 500;
const SEED_BATCH = 5000;
export const CALLBACK_URL = 'https://app.example.com/callback';

/**
 * A private database and Redis key prefix for one benchmark run (like test/setup does for a test run), migrated,
 * seeded with one client per authentication method, and dropped at the end.
 */
export class BenchEnvironment {
  private readonly hasher: SecretHasher;

  private constructor(
    /** Environment shared by the service and the floor (each adds its PORT). */
    readonly env: Record<string, string>,
    private readonly dataSource: DataSource,
    private readonly redis: IORedis,
    readonly secretClient: TestClient,
    readonly jwtClient: TestClient,
  ) {
    this.hasher = new SecretHasher(loadConfig(env));
  }

  static async create(poolSize: number): Promise<BenchEnvironment> {
    const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
    const database = new URL(ADMIN_DATABASE_URL);
    database.pathname = `/pwl_bench_${runId}`;
    const env = {
      NODE_ENV: 'production',
      ALLOW_DEVELOPMENT_KEYS: 'true',
      HOST: '127.0.0.1',
      DATABASE_URL: database.toString(),
      DATABASE_POOL_SIZE: String(poolSize),
      MIGRATIONS_RUN: 'false',
      REDIS_URL: BENCH_REDIS_URL,
      REDIS_PREFIX: `pwlbench-${runId}`,
      CODE_HASH_SECRET: randomBytes(32).toString('hex'),
      CODE_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      RATE_LIMIT_START_PER_IP: String(NEVER_REACHED),
      RATE_LIMIT_START_PER_IDENTIFIER: String(NEVER_REACHED),
      RATE_LIMIT_START_IDENTIFIER_COOLDOWN_MS: '0',
      RATE_LIMIT_START_PER_CLIENT: String(NEVER_REACHED),
      RATE_LIMIT_OTP_FAILURES_PER_IP: String(NEVER_REACHED),
      RATE_LIMIT_OTP_FAILURES_PER_IDENTIFIER: String(NEVER_REACHED),
    };
    const config = loadConfig(env);
    await ensureDatabaseExists(config.databaseUrl);
    const dataSource = await new DataSource({ ...dataSourceOptions(config), extra: { max: 2 } }).initialize();
    await runMigrationsLocked(dataSource);
    const secretClient = await createClient(dataSource, {
      authMethod: 'client_secret_post',
      connections: ['email'],
      callbacks: [CALLBACK_URL],
    });
    const jwtClient = await createClient(dataSource, {
      authMethod: 'private_key_jwt',
      alg: 'RS256',
      connections: ['email'],
      callbacks: [CALLBACK_URL],
    });
    return new BenchEnvironment(env, dataSource, new IORedis(BENCH_REDIS_URL), secretClient, jwtClient);
  }

  /** A statement on the benchmark's database (generating history, reading sizes). */
  query<T = unknown>(sql: string, params: unknown[] = []): Promise<T> {
    return this.dataSource.query(sql, params);
  }

  /** Empties the tables and keys the load writes, so every measurement starts from the same state. */
  async reset(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.dataSource.query('TRUNCATE verifications CASCADE');
        break;
      } catch (err) {
        // Requests cut off by the end of a load may still hold row locks; TRUNCATE can lose a deadlock to them.
        if ((err as { code?: string }).code !== DEADLOCK_DETECTED || attempt === RESET_ATTEMPTS) throw err;
        await sleep(RESET_RETRY_MS);
      }
    }
    await deleteKeysWithPrefix(this.redis, this.env.REDIS_PREFIX);
  }

  /**
   * Inserts `count` live email-code records, as `count` starts would leave them once their email was sent (a pending
   * record without an outbox row would be taken for a lost job by the relay's reconciliation, which sends it again
   * with a new code), all with the code `code`; returns their email addresses. Lets the token exchange be measured without a start (and a worker) per request. `forFloor` hashes
   * the codes as the exchange floor compares them (floorCodeHmac) instead of as the service does.
   */
  async seedLiveCodes(client: TestClient, count: number, code: string, forFloor = false): Promise<string[]> {
    const run = Date.now().toString(36);
    const random = new RandomSource();
    const emails: string[] = [];
    for (let offset = 0; offset < count; offset += SEED_BATCH) {
      const ids: string[] = [];
      const batch: string[] = [];
      for (let i = offset; i < Math.min(count, offset + SEED_BATCH); i++) {
        ids.push(newRecordId(new Date(), random));
        batch.push(`login.${run}.${i}@bench.example.com`);
      }
      await this.dataSource.query(
        `INSERT INTO verifications (id, client_id, connection, identifier, send, code_hmac, expires_at, delivery_status)
         SELECT id, $1, 'email', identifier, 'code', code_hmac, now() + interval '1 hour', 'sent'
           FROM unnest($2::char(24)[], $3::varchar[], $4::char(64)[]) AS t(id, identifier, code_hmac)`,
        [
          client.clientId,
          ids,
          batch,
          ids.map((id, i) =>
            forFloor
              ? floorCodeHmac(this.env.CODE_HASH_SECRET, client.clientId, 'email', batch[i], code)
              : this.hasher.hash(id, 'code', code),
          ),
        ],
      );
      emails.push(...batch);
    }
    // As autovacuum would after such growth: on stale statistics the planner serves `WHERE id = $1 AND <live>` from
    // the partial live-record index (a scan of every live row) instead of the primary key.
    await this.dataSource.query('ANALYZE verifications');
    return emails;
  }

  async destroy(): Promise<void> {
    await this.dataSource.destroy();
    await deleteKeysWithPrefix(this.redis, this.env.REDIS_PREFIX);
    await this.redis.quit();
    const admin = new Client({ connectionString: ADMIN_DATABASE_URL });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE IF EXISTS "${new URL(this.env.DATABASE_URL).pathname.slice(1)}" WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  }
}
