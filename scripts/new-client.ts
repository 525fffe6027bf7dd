import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { parseClientSpec, renderClientMigration, type NewClientSpec } from '../src/clients/client-migration';

const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/passwordless';

/**
 * `npm run client:new -- --name "Acme web" --type regular_web --auth client_secret_post --connections email,sms
 *   --callbacks https://acme.example/callback [--grants g1,g2] [--jwks-file keys.json] [--web-origins o1,o2]
 *   [--allowed-origins o1,o2] [--logout-urls url1,url2]`
 * Writes a migration under src/database/migrations and prints the client_id and (once) the secret. Runs from the
 * sources (no build): a usage error answers at once.
 */
async function main(): Promise<void> {
  const spec = parseClientSpec(process.argv.slice(2), (path) => readFileSync(path, 'utf8'));
  const dir = resolve(process.env.MIGRATIONS_DIR ?? join(process.cwd(), 'src', 'database', 'migrations'));
  if (!existsSync(dir)) throw new Error(`Migrations folder not found: ${dir} (run from the repository root)`);
  await checkConnections(spec);
  const migration = renderClientMigration(spec, Date.now());
  const path = join(dir, migration.fileName);
  writeFileSync(path, migration.source, { flag: 'wx' });
  console.log(`Wrote ${path}`);
  console.log(`client_id:     ${migration.clientId}`);
  if (migration.secret) {
    console.log(`client_secret: ${migration.secret}`);
    console.log('Store the secret now: it is not saved anywhere and cannot be shown again.');
  }
  console.log('Review and commit the migration, then apply it: npm run build && npm run migrate (or restart the API).');
}

/**
 * The connections must exist in the database. When it cannot be reached (a compose stack whose Postgres is not
 * published), the migration itself checks them when it is applied.
 */
async function checkConnections(spec: NewClientSpec): Promise<void> {
  const url = process.env.DATABASE_URL || DEFAULT_DATABASE_URL;
  const db = new Client({ connectionString: url, connectionTimeoutMillis: 1500 });
  let known: string[];
  try {
    await db.connect();
    known = (await db.query<{ name: string }>('SELECT name FROM connections')).rows.map((r) => r.name);
  } catch (err) {
    const host = URL.canParse(url) ? new URL(url).host : 'an invalid URL';
    console.warn(
      `client:new: could not read the connections from ${host} (DATABASE_URL): ${(err as Error).message};` +
        ' the migration checks them when it is applied.',
    );
    return;
  } finally {
    await db.end().catch(() => undefined);
  }
  const unknown = spec.connections.filter((name) => !known.includes(name));
  if (unknown.length > 0)
    throw new Error(`--connections: unknown connection ${unknown.join(', ')} (the database has ${known.join(', ')})`);
}

main().catch((err: unknown) => {
  console.error(`client:new: ${(err as Error).message}`);
  process.exit(1);
});
