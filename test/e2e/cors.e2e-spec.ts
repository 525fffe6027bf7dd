import { createClient, uniqueEmail, type TestClient } from '../utils/factories';
import { credentials, otpGrant, startFlow, verificationCount } from '../utils/passwordless-flow';
import { QueueInspector } from '../utils/queue-inspector';
import { startTestApp, type TestApp } from '../utils/test-app';

const APP = 'http://127.0.0.1:4200';
const WEB = 'https://spa.example.com';
const CALLBACK_ORIGIN = 'https://app.example.com';
const EVIL = 'https://evil.example.net';

describe('CORS per client', () => {
  let t: TestApp;
  let inspector: QueueInspector;
  let spa: TestClient;
  let web: TestClient;

  beforeAll(async () => {
    t = await startTestApp();
    inspector = new QueueInspector(t.config);
    spa = await createClient(t.dataSource, {
      authMethod: 'none',
      appType: 'spa',
      allowedOrigins: [APP],
      webOrigins: [WEB],
      callbacks: [`${CALLBACK_ORIGIN}/callback`],
    });
    web = await createClient(t.dataSource, { authMethod: 'client_secret_basic', allowedOrigins: [APP] });
  });

  afterAll(async () => {
    await inspector.close();
    await t.close();
  });

  const acao = (res: { headers: Headers }) => res.headers.get('access-control-allow-origin');
  const preflight = (path: string, origin: string, headers = 'content-type,auth0-client') =>
    fetch(`${t.baseUrl}${path}`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': headers },
    });

  it.each(['/passwordless/start', '/passwordless/verify', '/oauth/token', '/oauth/revoke', '/userinfo'])(
    'should answer a preflight to %s for any origin with the fixed headers, methods and max age',
    async (path) => {
      const res = await preflight(path, EVIL);
      expect(res.status).toBe(204);
      expect(acao(res)).toBe(EVIL);
      expect(res.headers.get('access-control-allow-methods')).toBe('GET, POST');
      expect(res.headers.get('access-control-allow-headers')).toBe(
        'Content-Type, Auth0-Client, Authorization, X-Request-Language, DPoP',
      );
      expect(res.headers.get('access-control-max-age')).toBe('86400');
      expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    },
  );

  it('should give no CORS headers to endpoints browsers only navigate to', async () => {
    for (const path of ['/health', '/v2/logout', '/passwordless/verify_redirect?client_id=x']) {
      const res = await t.get(path, { origin: APP });
      expect(res.status).toBeLessThan(500);
      expect(acao(res)).toBeNull();
    }
  });

  it.each([
    ['Allowed Origins', APP],
    ['Allowed Web Origins', WEB],
    ['a callback URL', CALLBACK_ORIGIN],
  ])('should allow a start from an origin in %s', async (_list, origin) => {
    const email = uniqueEmail();
    const res = await t.post(
      '/passwordless/start',
      { client_id: spa.clientId, connection: 'email', email },
      { origin, 'auth0-client': 'eyJuYW1lIjoiYXV0aDAuanMifQ' },
    );
    expect(res.status).toBe(200);
    expect(acao(res)).toBe(origin);
    expect(res.headers.get('vary')).toMatch(/Origin/);
    expect(await verificationCount(t, email)).toBe(1);
  });

  it('should refuse a start from an unregistered origin with no ACAO, and store or send nothing', async () => {
    const email = uniqueEmail();
    const res = await t.post(
      '/passwordless/start',
      { client_id: spa.clientId, connection: 'email', email },
      { origin: EVIL },
    );
    expect({ status: res.status, body: res.body }).toEqual({
      status: 403,
      body: { error: 'access_denied', error_description: `Origin ${EVIL} is not allowed.` },
    });
    expect(acao(res)).toBeNull();
    expect(await verificationCount(t, email)).toBe(0);
  });

  it('should refuse a token request from an unregistered origin without spending the code', async () => {
    const email = uniqueEmail();
    const flow = await startFlow(t, inspector, web, { connection: 'email', email, send: 'code' });
    const fields = {
      grant_type: 'http://auth0.com/oauth/grant-type/passwordless/otp',
      username: email,
      otp: flow.code,
      realm: 'email',
    };
    const basic = `Basic ${Buffer.from(`${web.clientId}:${web.secret!}`).toString('base64')}`;
    const refused = await t.postForm('/oauth/token', fields, { origin: EVIL, authorization: basic });
    expect(refused.status).toBe(403);
    expect(acao(refused)).toBeNull();
    const allowed = await t.postForm('/oauth/token', fields, { origin: APP, authorization: basic });
    expect(allowed.status).toBe(200);
    expect(acao(allowed)).toBe(APP);
  });

  it("should check /userinfo against the origins of the token's client (azp)", async () => {
    const email = uniqueEmail();
    const flow = await startFlow(t, inspector, web, { connection: 'email', email, send: 'code' });
    const tokens = (await otpGrant(t, web, { username: email, otp: flow.code, realm: 'email', scope: 'openid' })).body;
    const authorization = `Bearer ${tokens.access_token as string}`;
    const allowed = await t.get('/userinfo', { origin: APP, authorization });
    expect(allowed.status).toBe(200);
    expect(acao(allowed)).toBe(APP);
    const refused = await t.get('/userinfo', { origin: EVIL, authorization });
    expect(refused.status).toBe(403);
    expect(acao(refused)).toBeNull();
    // A token naming no client cannot be checked, and is refused by the endpoint itself.
    const garbage = await t.get('/userinfo', { origin: EVIL, authorization: 'Bearer not.a.jwt' });
    expect(garbage.status).toBe(401);
  });

  it('should let every origin read the JWKS and the discovery document', async () => {
    for (const path of ['/.well-known/jwks.json', '/.well-known/openid-configuration']) {
      const res = await t.get(path, { origin: EVIL });
      expect(res.status).toBe(200);
      expect(acao(res)).toBe(EVIL);
    }
  });

  it('should leave requests without an Origin (backends, native apps) alone', async () => {
    const res = await t.post('/passwordless/start', { ...credentials(spa), connection: 'email', email: uniqueEmail() });
    expect(res.status).toBe(200);
    expect(acao(res)).toBeNull();
  });

  it("should answer an unknown client from any origin with the endpoint's usual error", async () => {
    const res = await t.post(
      '/passwordless/start',
      { client_id: 'nope', connection: 'email', email: uniqueEmail() },
      { origin: EVIL },
    );
    expect({ status: res.status, error: res.body.error }).toEqual({ status: 401, error: 'invalid_client' });
  });

  it("should treat the service's own origin as same-origin", async () => {
    const own = new URL(t.config.issuerBaseUrl).origin;
    const res = await t.post(
      '/passwordless/start',
      { client_id: spa.clientId, connection: 'email', email: uniqueEmail() },
      { origin: own },
    );
    expect(res.status).toBe(200);
  });
});
