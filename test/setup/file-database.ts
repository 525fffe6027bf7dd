import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { ADMIN_DATABASE_URL } from './test-env';

/**
 * Each e2e test file gets a database of its own, cloned from the run's migrated one (CREATE DATABASE ... TEMPLATE),
 * as each gets a Redis prefix of its own: the relays and reconcilers of files running in parallel would otherwise
 * take each other's outbox rows and records. Registered first, so it runs before the file's own hooks.
 */
const runUrl = process.env.DATABASE_URL!;
let fileDatabase: string | undefined;

async function admin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: ADMIN_DATABASE_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  const template = new URL(runUrl).pathname.slice(1);
  const name = `${template}_${randomBytes(4).toString('hex')}`;
  await admin(async (client) => {
    // Another file's clone may hold the template for a moment ("being accessed by other users", 55006).
    for (let attempt = 1; ; attempt++) {
      try {
        await client.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
        return;
      } catch (err) {
        if ((err as { code?: string }).code !== '55006' || attempt >= 50) throw err;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  });
  fileDatabase = name;
  const url = new URL(runUrl);
  url.pathname = `/${name}`;
  process.env.DATABASE_URL = url.toString();
});

afterAll(async () => {
  if (!fileDatabase) return;
  const name = fileDatabase;
  process.env.DATABASE_URL = runUrl;
  await admin((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
});
