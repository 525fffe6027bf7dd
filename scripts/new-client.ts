import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseClientSpec, renderClientMigration } from '../src/clients/client-migration';

/**
 * `npm run client:new -- --name "Acme web" --type regular_web --auth client_secret_post --connections email,sms
 *   --callbacks https://acme.example/callback [--grants g1,g2] [--jwks-file keys.json] [--web-origins o1,o2]
 *   [--allowed-origins o1,o2] [--logout-urls url1,url2]`
 * Writes a migration under src/database/migrations and prints the client_id and (once) the secret.
 */
function main(): void {
  const spec = parseClientSpec(process.argv.slice(2), (path) => readFileSync(path, 'utf8'));
  const dir = resolve(process.env.MIGRATIONS_DIR ?? join(process.cwd(), 'src', 'database', 'migrations'));
  if (!existsSync(dir)) throw new Error(`Migrations folder not found: ${dir} (run from the repository root)`);
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

try {
  main();
} catch (err) {
  console.error(`client:new: ${(err as Error).message}`);
  process.exit(1);
}
