import { Client } from 'pg';
import type { DataSource } from 'typeorm';

/** Arbitrary but fixed: every replica contends for the same advisory lock while migrating. */
const MIGRATION_LOCK_KEY = 724_104_311;

/** Creates the database named in `url` if it does not exist (connecting to the `postgres` maintenance DB). */
export async function ensureDatabaseExists(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) {
      const quoted = `"${name.replace(/"/g, '""')}"`;
      // Two replicas may race here; losing the race with "already exists" (42P04) is fine.
      await client.query(`CREATE DATABASE ${quoted}`).catch((err: { code?: string }) => {
        if (err.code !== '42P04' && err.code !== '23505') throw err;
      });
    }
  } finally {
    await client.end();
  }
}

/**
 * Runs pending migrations while holding a session-level Postgres advisory lock, so that several API replicas starting
 * at once apply each migration exactly once (the others wait, then find nothing pending).
 */
export async function runMigrationsLocked(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await runner.release();
  }
}
