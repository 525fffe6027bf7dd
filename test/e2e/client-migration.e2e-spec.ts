import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK } from 'jose';
import { testKeyPair } from '../utils/keys';
import type { MigrationInterface } from 'typeorm';
import { parseClientSpec, renderClientMigration } from '../../src/clients/client-migration';
import { signAssertion, uniqueEmail } from '../utils/factories';
import { startTestApp, type TestApp } from '../utils/test-app';

describe('client:new migrations', () => {
  let t: TestApp;
  const dir = mkdtempSync(join(tmpdir(), 'client-migration-'));

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  /** Writes the rendered migration like the CLI does, loads it, and applies it with a real QueryRunner. */
  async function applyGenerated(argv: string[]) {
    const spec = parseClientSpec(argv, (path) => readFileSync(path, 'utf8'));
    const migration = renderClientMigration(spec, Date.now());
    const path = join(dir, migration.fileName);
    writeFileSync(path, migration.source);
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- load the generated file as TypeORM's CLI would
    const exported = require(path) as Record<string, new () => MigrationInterface>;
    const runner = t.dataSource.createQueryRunner();
    try {
      await new exported[migration.className]().up(runner);
    } finally {
      await runner.release();
    }
    return migration;
  }

  it('should refuse to apply a client naming a connection the database does not have', async () => {
    await expect(
      applyGenerated(['--name', 'Fax', '--connections', 'email,fax', '--callbacks', 'https://fax.example/cb']),
    ).rejects.toThrow(/unknown connections fax \(the database has .*email/);
  });

  it('should insert a secret client that can then start a login, storing only the secret hash', async () => {
    const migration = await applyGenerated([
      '--name',
      'Acme web',
      '--type',
      'regular_web',
      '--auth',
      'client_secret_post',
      '--connections',
      'email,sms',
      '--callbacks',
      'https://acme.example/callback',
    ]);
    expect(migration.source).not.toContain(migration.secret!);
    const [row] = await t.dataSource.query('SELECT * FROM clients WHERE client_id = $1', [migration.clientId]);
    expect(row).toMatchObject({
      name: 'Acme web',
      callbacks: ['https://acme.example/callback'],
      connections: ['email', 'sms'],
    });
    expect(row.client_secret_hash).toMatch(/^sha256:[0-9a-f]{64}$/);

    const res = await t.post('/passwordless/start', {
      client_id: migration.clientId,
      client_secret: migration.secret,
      connection: 'email',
      email: uniqueEmail(),
    });
    expect(res.status).toBe(200);
  });

  it('should insert a private_key_jwt client from a JWKS file', async () => {
    const { publicKey, privateKey } = testKeyPair('rsa', { modulusLength: 2048 });
    const jwksPath = join(dir, 'keys.json');
    writeFileSync(jwksPath, JSON.stringify({ keys: [await exportJWK(publicKey)] }));
    const migration = await applyGenerated([
      '--name',
      'Acme api',
      '--auth',
      'private_key_jwt',
      '--connections',
      'email',
      '--jwks-file',
      jwksPath,
    ]);
    expect(migration.secret).toBeUndefined();

    const assertion = await signAssertion(
      { clientId: migration.clientId, privateKey, alg: 'RS256' },
      t.config.issuerBaseUrl,
    );
    const res = await t.post('/passwordless/start', {
      client_id: migration.clientId,
      client_assertion: assertion,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      connection: 'email',
      email: uniqueEmail(),
      send: 'code',
    });
    expect(res.status).toBe(200);
  });
});
