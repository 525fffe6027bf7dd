import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from '../../src/config/app-config';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { ensureDatabaseExists, runMigrationsLocked } from '../../src/database/migration-runner';
import { compileSources } from '../utils/worker-process';
import { newRunEnvironment } from './test-env';

/**
 * Creates this run's database and applies the real migrations once, and compiles src/ once for the API's outbox relay
 * thread (a worker thread runs JavaScript, not the TypeScript Jest runs); test workers inherit the environment.
 */
export default async function globalSetup(): Promise<void> {
  Object.assign(process.env, newRunEnvironment());
  process.env.TEST_BUILD_DIR = compileSources(process.env.REDIS_PREFIX!);
  const config = loadConfig();
  await ensureDatabaseExists(config.databaseUrl);
  const dataSource = await new DataSource(dataSourceOptions(config)).initialize();
  try {
    await runMigrationsLocked(dataSource);
  } finally {
    await dataSource.destroy();
  }
}
