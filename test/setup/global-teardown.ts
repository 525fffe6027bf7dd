import IORedis from 'ioredis';
import { Client } from 'pg';
import { deleteKeysWithPrefix } from '../utils/redis-keys';
import { ADMIN_DATABASE_URL } from './test-env';

/** Drops this run's databases and Redis keys. */
export default async function globalTeardown(): Promise<void> {
  const database = new URL(process.env.DATABASE_URL ?? '').pathname.slice(1);
  if (database.startsWith('pwl_test_')) {
    const admin = new Client({ connectionString: ADMIN_DATABASE_URL });
    await admin.connect();
    // The run's database and whatever per-file clone a crashed test file left behind (test/setup/file-database.ts).
    const { rows } = await admin.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname = $1 OR starts_with(datname, $1 || '_')`,
      [database],
    );
    for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    await admin.end();
  }
  const prefix = process.env.REDIS_PREFIX;
  if (prefix?.startsWith('pwltest-')) {
    const redis = new IORedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    // Also covers the per-file prefixes (`<prefix>-email`, ...) that worker tests use.
    await deleteKeysWithPrefix(redis, prefix);
    await redis.quit();
  }
}
