import { createHash, randomBytes } from 'node:crypto';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { Clock } from '../../src/common/clock';
import { PASSWORDLESS_OTP_GRANT } from '../../src/clients/client.entity';
import { createClient, uniqueEmail, type TestClient } from '../utils/factories';
import { credentials, ManualClock, otpGrant, sendMagicLink, startFlow } from '../utils/passwordless-flow';
import { QueueInspector } from '../utils/queue-inspector';
import { startTestApp, type TestApp } from '../utils/test-app';

const CALLBACK = 'https://app.example.com/callback';
const INVALID = { error: 'invalid_grant', error_description: 'Unknown or invalid refresh token.' };
const NATIVE_GRANTS = [PASSWORDLESS_OTP_GRANT, 'authorization_code', 'implicit', 'refresh_token'];

/** A passwordless login with the OTP grant, returning the token response. */
async function login(t: TestApp, inspector: QueueInspector, client: TestClient, scope: string) {
  const email = uniqueEmail();
  const flow = await startFlow(t, inspector, client, { connection: 'email', email, send: 'code' });
  const res = await otpGrant(t, client, { username: email, otp: flow.code, realm: 'email', scope });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${res.text}`);
  return { email, body: res.body };
}

const refresh = (t: TestApp, client: TestClient, refreshToken: string, fields: Record<string, string> = {}) =>
  t.postForm('/oauth/token', {
    ...credentials(client),
    grant_type: 'refresh_token',
    refresh_token: refreshToken,
    ...fields,
  });

const outcome = (res: { status: number; body: unknown }) => ({ status: res.status, body: res.body });

describe('Refresh tokens: offline_access, the refresh_token grant and POST /oauth/revoke', () => {
  let t: TestApp;
  let inspector: QueueInspector;
  let native: TestClient;
  let web: TestClient;

  beforeAll(async () => {
    t = await startTestApp();
    inspector = new QueueInspector(t.config);
    native = await createClient(t.dataSource, { authMethod: 'none', appType: 'native', grantTypes: NATIVE_GRANTS });
    web = await createClient(t.dataSource, { callbacks: [CALLBACK] });
  });

  afterAll(async () => {
    await inspector.close();
    await t.close();
  });

  const jwks = async () => createLocalJWKSet((await t.get('/.well-known/jwks.json')).body as unknown as JSONWebKeySet);

  it('should list the revocation endpoint, the refresh_token grant and offline_access in discovery', async () => {
    const config = (await t.get('/.well-known/openid-configuration')).body;
    expect(config).toMatchObject({ revocation_endpoint: `${t.config.issuerBaseUrl}oauth/revoke` });
    expect(config.grant_types_supported).toContain('refresh_token');
    expect(config.scopes_supported).toContain('offline_access');
  });

  it('should issue an opaque refresh token with offline_access, stored only as an HMAC', async () => {
    const { body } = await login(t, inspector, native, 'openid email offline_access');
    expect(body).toMatchObject({ token_type: 'Bearer', scope: 'openid email offline_access' });
    const token = body.refresh_token as string;
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const rows = await t.dataSource.query<Array<{ row: string }>>(
      `SELECT row_to_json(t)::text AS row FROM refresh_tokens t
        UNION ALL SELECT row_to_json(f)::text FROM refresh_token_families f`,
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const { row } of rows) expect(row).not.toContain(token);
  });

  it('should drop offline_access and issue no refresh token for a client without the refresh_token grant', async () => {
    const { body } = await login(t, inspector, web, 'openid offline_access');
    expect(body.scope).toBe('openid');
    expect(body).not.toHaveProperty('refresh_token');
  });

  it('should rotate: a new refresh token, access token and id_token in Auth0 shape', async () => {
    const { email, body } = await login(t, inspector, native, 'openid email offline_access');
    const res = await refresh(t, native, body.refresh_token as string);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(Object.keys(res.body).sort()).toEqual([
      'access_token',
      'expires_in',
      'id_token',
      'refresh_token',
      'scope',
      'token_type',
    ]);
    expect(res.body).toMatchObject({ token_type: 'Bearer', scope: 'openid email offline_access', expires_in: 86400 });
    expect(res.body.refresh_token).not.toBe(body.refresh_token);
    const { payload } = await jwtVerify(res.body.id_token as string, await jwks(), {
      issuer: t.config.issuerBaseUrl,
      audience: native.clientId,
    });
    expect(payload).toMatchObject({ email, email_verified: true });
    const userinfo = await t.get('/userinfo', { authorization: `Bearer ${res.body.access_token as string}` });
    expect(userinfo.body).toMatchObject({ email });

    // The newest token keeps working (JSON bodies too, as spa-js may send them).
    const next = await t.post('/oauth/token', {
      client_id: native.clientId,
      grant_type: 'refresh_token',
      refresh_token: res.body.refresh_token,
    });
    expect(next.status).toBe(200);
  });

  it('should revoke the whole family when a rotated token is presented again', async () => {
    const { body } = await login(t, inspector, native, 'openid offline_access');
    const first = body.refresh_token as string;
    const second = (await refresh(t, native, first)).body.refresh_token as string;
    expect(outcome(await refresh(t, native, first))).toEqual({ status: 403, body: INVALID });
    expect(outcome(await refresh(t, native, second))).toEqual({ status: 403, body: INVALID });
  });

  it('should let exactly one of several concurrent refreshes of one token win', async () => {
    const { body } = await login(t, inspector, native, 'openid offline_access');
    const results = await Promise.all(
      Array.from({ length: 6 }, () => refresh(t, native, body.refresh_token as string)),
    );
    const winners = results.filter((r) => r.status === 200);
    expect(winners).toHaveLength(1);
    for (const loser of results.filter((r) => r.status !== 200))
      expect(outcome(loser)).toEqual({ status: 403, body: INVALID });
    // Every loser presented a token already rotated: reuse, so the winner's family is revoked too (Auth0's rule).
    expect(outcome(await refresh(t, native, winners[0].body.refresh_token as string))).toEqual({
      status: 403,
      body: INVALID,
    });
  });

  it('should narrow the scope on request, refuse to widen it and leave the token usable after a refusal', async () => {
    const { body } = await login(t, inspector, native, 'openid email offline_access');
    const widened = await refresh(t, native, body.refresh_token as string, { scope: 'openid phone' });
    expect(outcome(widened)).toEqual({
      status: 400,
      body: { error: 'invalid_scope', error_description: 'Scope phone was not granted.' },
    });
    const narrowed = await refresh(t, native, body.refresh_token as string, { scope: 'email offline_access' });
    expect(narrowed.status).toBe(200);
    expect(narrowed.body.scope).toBe('email offline_access');
    expect(narrowed.body).not.toHaveProperty('id_token');
    // The family keeps the scope first granted.
    const full = await refresh(t, native, narrowed.body.refresh_token as string);
    expect(full.body.scope).toBe('openid email offline_access');
  });

  it('should answer bad refresh requests with Auth0 errors and spend nothing', async () => {
    const { body } = await login(t, inspector, native, 'offline_access');
    const token = body.refresh_token as string;
    const other = await createClient(t.dataSource, {
      authMethod: 'none',
      appType: 'native',
      grantTypes: NATIVE_GRANTS,
    });
    expect(outcome(await refresh(t, other, token))).toEqual({ status: 403, body: INVALID });
    expect(outcome(await refresh(t, native, 'not-a-token'))).toEqual({ status: 403, body: INVALID });
    expect(outcome(await refresh(t, web, token))).toEqual({
      status: 403,
      body: {
        error: 'unauthorized_client',
        error_description: "Grant type 'refresh_token' not allowed for the client.",
      },
    });
    const missing = await t.postForm('/oauth/token', { ...credentials(native), grant_type: 'refresh_token' });
    expect(outcome(missing)).toEqual({
      status: 400,
      body: { error: 'invalid_request', error_description: 'missing refresh_token parameter' },
    });
    const array = await t.post('/oauth/token', {
      ...credentials(native),
      grant_type: 'refresh_token',
      refresh_token: [token, token],
    });
    expect(array.status).toBe(400);
    expect((await refresh(t, native, token)).status).toBe(200);
  });

  it('should revoke with POST /oauth/revoke: 200 with no body, also for unknown tokens', async () => {
    const { body } = await login(t, inspector, native, 'openid offline_access');
    const revoke = (fields: Record<string, string>) =>
      t.postForm('/oauth/revoke', { ...credentials(native), ...fields });
    const res = await revoke({ token: body.refresh_token as string, token_type_hint: 'refresh_token' });
    expect({ status: res.status, text: res.text }).toEqual({ status: 200, text: '' });
    expect(outcome(await refresh(t, native, body.refresh_token as string))).toEqual({ status: 403, body: INVALID });
    expect((await revoke({ token: body.refresh_token as string })).status).toBe(200);
    expect((await revoke({ token: 'unknown' })).status).toBe(200);
    expect(outcome(await revoke({}))).toEqual({
      status: 400,
      body: { error: 'invalid_request', error_description: 'missing token parameter' },
    });
    const badSecret = await t.postForm('/oauth/revoke', {
      client_id: web.clientId,
      client_secret: 'wrong',
      token: 'x',
    });
    expect(badSecret.status).toBe(401);
    expect(badSecret.body.error).toBe('invalid_client');
  });

  it('should not let another client revoke a token', async () => {
    const { body } = await login(t, inspector, native, 'offline_access');
    const other = await createClient(t.dataSource, {
      authMethod: 'none',
      appType: 'native',
      grantTypes: NATIVE_GRANTS,
    });
    const res = await t.postForm('/oauth/revoke', { client_id: other.clientId, token: body.refresh_token as string });
    expect(res.status).toBe(200);
    expect((await refresh(t, native, body.refresh_token as string)).status).toBe(200);
  });

  it('should issue a refresh token from a magic-link code and revoke it when the code is redeemed again', async () => {
    const spa = await createClient(t.dataSource, {
      authMethod: 'none',
      appType: 'spa',
      callbacks: [CALLBACK],
      grantTypes: NATIVE_GRANTS,
    });
    const email = uniqueEmail();
    const verifier = randomBytes(32).toString('base64url');
    const authParams = {
      response_type: 'code',
      scope: 'openid offline_access',
      redirect_uri: CALLBACK,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    };
    const link = await sendMagicLink(t, inspector, spa, authParams, email);
    const redirect = await t.postForm('/passwordless/verify_redirect', link.params);
    const code = new URL(redirect.headers.get('location')!).searchParams.get('code')!;
    const exchange = () =>
      t.postForm('/oauth/token', {
        client_id: spa.clientId,
        grant_type: 'authorization_code',
        code,
        redirect_uri: CALLBACK,
        code_verifier: verifier,
      });
    const tokens = await exchange();
    expect(tokens.status).toBe(200);
    expect(tokens.body.scope).toBe('openid offline_access');
    const rotated = await refresh(t, spa, tokens.body.refresh_token as string);
    expect(rotated.status).toBe(200);

    expect((await exchange()).status).toBe(403);
    expect(outcome(await refresh(t, spa, rotated.body.refresh_token as string))).toEqual({
      status: 403,
      body: INVALID,
    });
  });
});

describe('Refresh tokens: lifetimes and the reuse interval', () => {
  const clock = new ManualClock();
  let t: TestApp;
  let inspector: QueueInspector;
  let native: TestClient;

  beforeAll(async () => {
    t = await startTestApp({
      overrides: [{ provide: Clock, useValue: clock }],
      env: {
        REFRESH_TOKEN_LIFETIME_SECONDS: '3600',
        REFRESH_TOKEN_IDLE_LIFETIME_SECONDS: '1000',
        REFRESH_TOKEN_REUSE_INTERVAL_SECONDS: '30',
      },
    });
    inspector = new QueueInspector(t.config);
    native = await createClient(t.dataSource, { authMethod: 'none', appType: 'native', grantTypes: NATIVE_GRANTS });
  });

  afterAll(async () => {
    await inspector.close();
    await t.close();
  });

  it('should expire a token left unused for the idle lifetime', async () => {
    const { body } = await login(t, inspector, native, 'offline_access');
    clock.advance(1001_000);
    expect(outcome(await refresh(t, native, body.refresh_token as string))).toEqual({ status: 403, body: INVALID });
  });

  it('should renew the idle lifetime at each exchange but never pass the absolute lifetime', async () => {
    const { body } = await login(t, inspector, native, 'offline_access');
    let token = body.refresh_token as string;
    for (let elapsed = 0; elapsed + 900 < 3600; elapsed += 900) {
      clock.advance(900_000);
      const res = await refresh(t, native, token);
      expect(res.status).toBe(200);
      token = res.body.refresh_token as string;
    }
    clock.advance(900_000);
    expect(outcome(await refresh(t, native, token))).toEqual({ status: 403, body: INVALID });
  });

  it('should accept the immediately previous token again within the reuse interval, and only that one', async () => {
    const { body } = await login(t, inspector, native, 'offline_access');
    const first = body.refresh_token as string;
    const second = (await refresh(t, native, first)).body.refresh_token as string;
    clock.advance(10_000);
    const retry = await refresh(t, native, first);
    expect(retry.status).toBe(200);
    const third = retry.body.refresh_token as string;
    expect((await refresh(t, native, third)).status).toBe(200);
    // `first` is now two rotations behind the latest: reuse, so the family is revoked.
    expect(outcome(await refresh(t, native, first))).toEqual({ status: 403, body: INVALID });
    expect(outcome(await refresh(t, native, second))).toEqual({ status: 403, body: INVALID });
  });

  it('should treat the previous token as reused once the reuse interval has passed', async () => {
    const { body } = await login(t, inspector, native, 'offline_access');
    const first = body.refresh_token as string;
    const second = (await refresh(t, native, first)).body.refresh_token as string;
    clock.advance(31_000);
    expect(outcome(await refresh(t, native, first))).toEqual({ status: 403, body: INVALID });
    expect(outcome(await refresh(t, native, second))).toEqual({ status: 403, body: INVALID });
  });
});
