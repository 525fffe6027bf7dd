import { randomBytes } from 'node:crypto';
import { testKeyPair } from '../utils/keys';
import { Client } from 'pg';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { createClient, uniqueEmail } from '../utils/factories';
import { otpGrant, startFlow } from '../utils/passwordless-flow';
import { QueueInspector } from '../utils/queue-inspector';
import { ADMIN_DATABASE_URL } from '../setup/test-env';
import { startTestApp, type TestApp } from '../utils/test-app';

const rsaKey = () => testKeyPair('rsa', { modulusLength: 2048 }).privateKey;

describe('Token signing keys', () => {
  it('should generate one development key, persist it sealed, and reuse it on the next boot', async () => {
    const first = await startTestApp();
    const second = await startTestApp();
    try {
      const kids = await Promise.all(
        [first, second].map(async (t) =>
          ((await t.get('/.well-known/jwks.json')).body.keys as Array<{ kid: string }>).map((k) => k.kid),
        ),
      );
      expect(kids[0]).toHaveLength(1);
      expect(kids[1]).toEqual(kids[0]);
      const rows = await first.dataSource.query<Array<{ kid: string; private_key_sealed: string }>>(
        'SELECT kid, private_key_sealed FROM signing_keys',
      );
      expect(rows.map((r) => r.kid)).toEqual(kids[0]);
      expect(rows[0].private_key_sealed).toMatch(/^v1\./);
      expect(rows[0].private_key_sealed).not.toContain('PRIVATE KEY');
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });

  it('should boot on an empty database: migrations run before the key is generated', async () => {
    const url = new URL(ADMIN_DATABASE_URL);
    url.pathname = `/${new URL(process.env.DATABASE_URL!).pathname.slice(1)}_fresh_${randomBytes(3).toString('hex')}`;
    const database = url.pathname.slice(1);
    try {
      const t = await startTestApp({ env: { DATABASE_URL: url.toString() } });
      expect(((await t.get('/.well-known/jwks.json')).body.keys as unknown[]).length).toBe(1);
      await t.close();
    } finally {
      const admin = new Client({ connectionString: ADMIN_DATABASE_URL });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      await admin.end();
    }
  });

  describe('configured keys (rotation)', () => {
    let t: TestApp;
    let inspector: QueueInspector;

    beforeAll(async () => {
      const old = rsaKey().export({ format: 'pem', type: 'pkcs1' }).toString();
      const current = { ...rsaKey().export({ format: 'jwk' }), kid: 'current' };
      t = await startTestApp({
        env: { SIGNING_KEYS: JSON.stringify([{ kid: 'old', pem: old }, current]), SIGNING_KEY_ACTIVE_KID: 'current' },
      });
      inspector = new QueueInspector(t.config);
    });

    afterAll(async () => {
      await inspector.close();
      await t.close();
    });

    it('should publish every configured key and sign with the active one', async () => {
      const jwks = (await t.get('/.well-known/jwks.json')).body as unknown as JSONWebKeySet;
      expect(jwks.keys.map((k) => k.kid).sort()).toEqual(['current', 'old']);
      expect(jwks.keys.every((k) => k.d === undefined && k.p === undefined)).toBe(true);

      const client = await createClient(t.dataSource);
      const email = uniqueEmail();
      const { code } = await startFlow(t, inspector, client, { connection: 'email', email, send: 'code' });
      const tokens = (await otpGrant(t, client, { username: email, otp: code, realm: 'email', scope: 'openid' })).body;
      expect(decodeProtectedHeader(tokens.id_token as string).kid).toBe('current');
      await expect(jwtVerify(tokens.id_token as string, createLocalJWKSet(jwks))).resolves.toBeDefined();
    });
  });

  it('should refuse to boot with a key that is not a usable RS256 private key', async () => {
    const small = testKeyPair('rsa', { modulusLength: 1024 })
      .privateKey.export({ format: 'pem', type: 'pkcs8' })
      .toString();
    const ec = testKeyPair('ec', { namedCurve: 'P-256' })
      .privateKey.export({ format: 'pem', type: 'pkcs8' })
      .toString();
    for (const keys of [[{ kid: 'a', pem: small }], [{ kid: 'b', pem: ec }], [{ kid: 'c', pem: 'not a key' }]]) {
      await expect(startTestApp({ env: { SIGNING_KEYS: JSON.stringify(keys) } })).rejects.toThrow(/SIGNING_KEYS\[0\]/);
    }
  });
});
