import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PASSWORDLESS_OTP_GRANT } from '../../src/clients/client.entity';
import { createClient, uniqueEmail, type TestClient } from '../utils/factories';
import { readSecret } from '../utils/passwordless-flow';
import { QueueInspector } from '../utils/queue-inspector';
import { QueueName } from '../../src/delivery/delivery.constants';
import { freePort } from '../utils/redis-process';
import { startTestApp, type TestApp } from '../utils/test-app';
import { selfSignedCertificate, type SelfSignedCertificate } from '../utils/tls';

/**
 * The official Node SDK (auth0@4 AuthenticationClient) as the client. It only speaks https://<domain> and fetches the
 * JWKS with its own HTTPS client, so the service runs over HTTPS with a throwaway self-signed certificate for
 * localhost and the SDK runs in a child process that trusts it through NODE_EXTRA_CA_CERTS (stack.md §9, option 2).
 */
const SDK_SCRIPT = `
const { AuthenticationClient } = require('auth0');
const { DOMAIN, CLIENT_ID, CLIENT_SECRET, EMAIL, CODE, MODE, SCOPE, REFRESH_TOKEN } = process.env;
const auth = new AuthenticationClient({ domain: DOMAIN, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
const calls = {
  send: () => auth.passwordless.sendEmail({ email: EMAIL, send: 'code' }),
  login: () => auth.passwordless.loginWithEmail({ email: EMAIL, code: CODE, scope: SCOPE || 'openid email' }),
  refresh: () => auth.oauth.refreshTokenGrant({ refresh_token: REFRESH_TOKEN }),
  revoke: () => auth.oauth.revokeRefreshToken({ token: REFRESH_TOKEN }),
};
calls[MODE]().then(
  (r) => process.stdout.write(JSON.stringify({ ok: true, status: r.status, data: r.data === undefined ? null : r.data })),
  (e) => process.stdout.write(JSON.stringify({ ok: false, name: e.name, message: e.message, error: e.error, statusCode: e.statusCode })),
);`;

describe('Auth0 Node SDK v4 against the service', () => {
  let tls: SelfSignedCertificate;
  let t: TestApp;
  let inspector: QueueInspector;
  let client: TestClient;
  let domain: string;

  beforeAll(async () => {
    tls = selfSignedCertificate();
    const port = await freePort();
    domain = `localhost:${port}`;
    t = await startTestApp({
      port,
      env: { ISSUER_BASE_URL: `https://${domain}/` },
      tls: { key: tls.key, cert: tls.cert },
    });
    inspector = new QueueInspector(t.config);
    client = await createClient(t.dataSource, {
      grantTypes: [PASSWORDLESS_OTP_GRANT, 'authorization_code', 'implicit', 'refresh_token'],
    });
  });

  afterAll(async () => {
    await inspector.close();
    await t.close();
    tls.remove();
  });

  const sdk = async (env: Record<string, string>) => {
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', SDK_SCRIPT], {
      cwd: join(__dirname, '..', '..'),
      env: {
        ...process.env,
        NODE_EXTRA_CA_CERTS: tls.certPath,
        DOMAIN: domain,
        CLIENT_ID: client.clientId,
        CLIENT_SECRET: client.secret!,
        ...env,
      },
      timeout: 20_000,
    });
    return JSON.parse(stdout) as {
      ok: boolean;
      status?: number;
      data?: Record<string, unknown>;
      error?: string;
      statusCode?: number;
      message?: string;
    };
  };

  it('should send a code with passwordless.sendEmail and log in with loginWithEmail, the SDK validating the id_token', async () => {
    const email = uniqueEmail();
    expect(await sdk({ MODE: 'send', EMAIL: email })).toMatchObject({ ok: true, status: 200 });
    const [record] = await t.dataSource.query<Array<{ id: string }>>(
      'SELECT id FROM verifications WHERE identifier = $1',
      [email],
    );
    const { code } = await readSecret(t, inspector, record.id, QueueName.Email);

    const wrong = await sdk({ MODE: 'login', EMAIL: email, CODE: code === '000000' ? '111111' : '000000' });
    expect(wrong).toMatchObject({
      ok: false,
      error: 'invalid_grant',
      statusCode: 403,
      message: 'Wrong email or verification code.',
    });

    const login = await sdk({ MODE: 'login', EMAIL: email, CODE: code });
    expect(login).toMatchObject({
      ok: true,
      status: 200,
      data: { token_type: 'Bearer', scope: 'openid email', expires_in: 86400 },
    });
    expect(login.data?.id_token).toEqual(expect.any(String));
  });

  /** sendEmail, then loginWithEmail with the emailed code and `scope`. */
  const loginWithCode = async (scope: string) => {
    const email = uniqueEmail();
    expect(await sdk({ MODE: 'send', EMAIL: email })).toMatchObject({ ok: true });
    const [record] = await t.dataSource.query<Array<{ id: string }>>(
      'SELECT id FROM verifications WHERE identifier = $1',
      [email],
    );
    const { code } = await readSecret(t, inspector, record.id, QueueName.Email);
    return sdk({ MODE: 'login', EMAIL: email, CODE: code, SCOPE: scope });
  };

  it('should rotate with oauth.refreshTokenGrant, refuse the rotated token and revoke with oauth.revokeRefreshToken', async () => {
    const login = await loginWithCode('openid email offline_access');
    const first = login.data?.refresh_token as string;
    expect(first).toEqual(expect.any(String));

    const refreshed = await sdk({ MODE: 'refresh', REFRESH_TOKEN: first });
    expect(refreshed).toMatchObject({
      ok: true,
      status: 200,
      data: { token_type: 'Bearer', scope: 'openid email offline_access', id_token: expect.any(String) },
    });
    const second = refreshed.data?.refresh_token as string;
    expect(second).not.toBe(first);

    const revoked = await sdk({ MODE: 'revoke', REFRESH_TOKEN: second });
    expect(revoked).toMatchObject({ ok: true, status: 200 });
    expect(await sdk({ MODE: 'refresh', REFRESH_TOKEN: second })).toMatchObject({
      ok: false,
      statusCode: 403,
      error: 'invalid_grant',
      message: 'Unknown or invalid refresh token.',
    });

    // Reuse of a rotated token: refused, and the family (with its newest token) is revoked.
    const other = await loginWithCode('openid offline_access');
    const old = other.data?.refresh_token as string;
    const newest = (await sdk({ MODE: 'refresh', REFRESH_TOKEN: old })).data?.refresh_token as string;
    expect(await sdk({ MODE: 'refresh', REFRESH_TOKEN: old })).toMatchObject({ ok: false, error: 'invalid_grant' });
    expect(await sdk({ MODE: 'refresh', REFRESH_TOKEN: newest })).toMatchObject({ ok: false, error: 'invalid_grant' });
  });
});
