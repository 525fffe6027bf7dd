import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from '../config/app-config';
import { dataSourceOptions } from './data-source-options';
import { ensureDatabaseExists, runMigrationsLocked } from './migration-runner';

/** `npm run migrate`: the explicit migration step (for deployments that set MIGRATIONS_RUN=false on the API). */
async function main(): Promise<void> {
  const config = loadConfig();
  await ensureDatabaseExists(config.databaseUrl);
  const dataSource = await new DataSource(dataSourceOptions(config, { noTimeouts: true })).initialize();
  try {
    const applied = await runMigrationsLocked(dataSource);
    console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'No pending migrations.');
  } finally {
    await dataSource.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : 'Migration failed');
  process.exit(1);
});
