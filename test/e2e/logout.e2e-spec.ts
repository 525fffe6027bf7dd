import { SignJWT } from 'jose';
import { testKeyPair } from '../utils/keys';
import { createClient, uniqueEmail, type TestClient } from '../utils/factories';
import { otpGrant, startFlow } from '../utils/passwordless-flow';
import { QueueInspector } from '../utils/queue-inspector';
import { startTestApp, type TestApp } from '../utils/test-app';

const BYE = 'https://app.example.com/bye';
const SIGNED_OUT = 'https://app.example.com/signed-out?from=idp';

describe('Logout: GET /v2/logout and /oidc/logout', () => {
  let t: TestApp;
  let inspector: QueueInspector;
  let app: TestClient;
  let bare: TestClient;

  beforeAll(async () => {
    t = await startTestApp();
    inspector = new QueueInspector(t.config);
    app = await createClient(t.dataSource, { allowedLogoutUrls: [BYE, SIGNED_OUT] });
    bare = await createClient(t.dataSource);
  });

  afterAll(async () => {
    await inspector.close();
    await t.close();
  });

  const location = (res: { headers: Headers }) => res.headers.get('location');
  const idToken = async (client: TestClient) => {
    const email = uniqueEmail();
    const flow = await startFlow(t, inspector, client, { connection: 'email', email, send: 'code' });
    const res = await otpGrant(t, client, { username: email, otp: flow.code, realm: 'email', scope: 'openid' });
    return res.body.id_token as string;
  };
  const q = (params: Record<string, string>) => new URLSearchParams(params).toString();

  describe('/v2/logout', () => {
    it('should redirect to an allowed returnTo, ignoring its query, with scheme and host case-insensitive', async () => {
      for (const returnTo of [BYE, `${BYE}?lang=fr#top`, 'HTTPS://App.Example.com/bye']) {
        const res = await t.get(`/v2/logout?${q({ client_id: app.clientId, returnTo })}`);
        expect(res.status).toBe(302);
        expect(location(res)).toBe(returnTo);
      }
    });

    it("should send the browser to the client's first logout URL without returnTo", async () => {
      const res = await t.get(`/v2/logout?${q({ client_id: app.clientId })}`);
      expect({ status: res.status, location: location(res) }).toEqual({ status: 302, location: BYE });
      const none = await t.get(`/v2/logout?${q({ client_id: bare.clientId })}`);
      expect(none.status).toBe(200);
      expect(none.text).toContain('You have been logged out.');
    });

    it("should refuse a returnTo outside the client's list with Auth0's text, and never redirect", async () => {
      for (const returnTo of [
        'https://evil.example.net/bye',
        'https://app.example.com/BYE',
        'https://app.example.com/bye/more',
      ]) {
        const res = await t.get(`/v2/logout?${q({ client_id: app.clientId, returnTo })}`);
        expect(res.status).toBe(400);
        expect(location(res)).toBeNull();
        expect(res.headers.get('content-type')).toMatch(/^text\/html/);
        expect(res.text).toContain(
          `The &quot;returnTo&quot; querystring parameter &quot;${returnTo}&quot; is not defined as a valid URL in &quot;Allowed Logout URLs&quot;.`,
        );
      }
      const noClient = await t.get(`/v2/logout?${q({ returnTo: BYE })}`);
      expect(noClient.status).toBe(400);
    });

    it('should answer bad input with a 400 page', async () => {
      expect((await t.get(`/v2/logout?${q({ client_id: 'unknown' })}`)).status).toBe(400);
      const repeated = await t.get(`/v2/logout?client_id=${app.clientId}&returnTo=${BYE}&returnTo=${BYE}`);
      expect(repeated.status).toBe(400);
      expect((await t.get('/v2/logout')).status).toBe(200);
      const html = await t.get(`/v2/logout?${q({ client_id: app.clientId, returnTo: '"><script>alert(1)</script>' })}`);
      expect(html.status).toBe(400);
      expect(html.text).not.toContain('<script>');
    });
  });

  describe('/oidc/logout', () => {
    it('should take the client from id_token_hint and echo state to an exactly registered URI', async () => {
      const hint = await idToken(app);
      const res = await t.get(
        `/oidc/logout?${q({ id_token_hint: hint, post_logout_redirect_uri: SIGNED_OUT, state: 'xyz 1' })}`,
      );
      expect(res.status).toBe(302);
      expect(location(res)).toBe(`${SIGNED_OUT}&state=xyz+1`);
    });

    it('should accept the same parameters as a form POST', async () => {
      const res = await t.postForm('/oidc/logout', { client_id: app.clientId, post_logout_redirect_uri: BYE });
      expect({ status: res.status, location: location(res) }).toEqual({ status: 302, location: BYE });
    });

    it('should require the exact URI, query string included', async () => {
      const res = await t.get(
        `/oidc/logout?${q({ client_id: app.clientId, post_logout_redirect_uri: 'https://app.example.com/signed-out' })}`,
      );
      expect(res.status).toBe(400);
      expect(location(res)).toBeNull();
    });

    it('should refuse a hint for another client, a forged hint and a mismatching client_id', async () => {
      const hint = await idToken(app);
      const mismatch = await t.get(`/oidc/logout?${q({ id_token_hint: hint, client_id: bare.clientId })}`);
      expect(mismatch.status).toBe(400);
      expect(mismatch.text).toContain('client_id does not match');
      const { privateKey } = testKeyPair('rsa', { modulusLength: 2048 });
      const forged = await new SignJWT({})
        .setProtectedHeader({
          alg: 'RS256',
          kid: JSON.parse(Buffer.from(hint.split('.')[0], 'base64url').toString()).kid,
        })
        .setIssuer(t.config.issuerBaseUrl)
        .setAudience(app.clientId)
        .sign(privateKey);
      const res = await t.get(`/oidc/logout?${q({ id_token_hint: forged, post_logout_redirect_uri: BYE })}`);
      expect(res.status).toBe(400);
      expect(location(res)).toBeNull();
      expect((await t.get(`/oidc/logout?${q({ id_token_hint: 'garbage' })}`)).status).toBe(400);
    });

    it("should use the client's first URL without post_logout_redirect_uri, else show a page", async () => {
      const res = await t.get(`/oidc/logout?${q({ client_id: app.clientId, state: 's' })}`);
      expect(location(res)).toBe(`${BYE}?state=s`);
      const page = await t.get('/oidc/logout');
      expect(page.status).toBe(200);
      expect(page.headers.get('cache-control')).toBe('no-store');
    });

    it('should list end_session_endpoint in discovery', async () => {
      const config = (await t.get('/.well-known/openid-configuration')).body;
      expect(config.end_session_endpoint).toBe(`${t.config.issuerBaseUrl}oidc/logout`);
    });
  });
});
