import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from '../../src/config/app-config';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { ensureDatabaseExists, runMigrationsLocked } from '../../src/database/migration-runner';
import { newRunEnvironment } from './test-env';

/**
 * Creates this run's database and applies the real migrations once; test workers inherit the environment.
 */
export default async function globalSetup(): Promise<void> {
  Object.assign(process.env, newRunEnvironment());
  const config = loadConfig();
  await ensureDatabaseExists(config.databaseUrl);
  const dataSource = await new DataSource(dataSourceOptions(config, { noTimeouts: true })).initialize();
  try {
    await runMigrationsLocked(dataSource);
  } finally {
    await dataSource.destroy();
  }
}
