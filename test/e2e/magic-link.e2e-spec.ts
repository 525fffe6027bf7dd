import { createHash, randomBytes } from 'node:crypto';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { Clock } from '../../src/common/clock';
import { createClient, uniqueEmail, uniquePhone, type TestClient } from '../utils/factories';
import {
  credentials,
  ManualClock,
  otpGrant,
  redemptionState,
  sendMagicLink,
  startFlow,
} from '../utils/passwordless-flow';
import { QueueInspector } from '../utils/queue-inspector';
import { startTestApp, type TestApp } from '../utils/test-app';

const CALLBACK = 'https://app.example.com/callback';

describe('Magic links: GET/POST /passwordless/verify_redirect', () => {
  const clock = new ManualClock();
  let t: TestApp;
  let inspector: QueueInspector;
  let web: TestClient;
  let spa: TestClient;

  beforeAll(async () => {
    t = await startTestApp({ overrides: [{ provide: Clock, useValue: clock }] });
    inspector = new QueueInspector(t.config);
    web = await createClient(t.dataSource, { callbacks: [CALLBACK, 'https://app.example.com/other'] });
    spa = await createClient(t.dataSource, { authMethod: 'none', appType: 'spa', callbacks: [CALLBACK] });
  });

  afterAll(async () => {
    await inspector.close();
    await t.close();
  });

  /** Starts a link flow and returns the emailed link's path + query on the test server, and its parameters. */
  const sendLink = (client: TestClient, authParams: Record<string, string>, email = uniqueEmail()) =>
    sendMagicLink(t, inspector, client, authParams, email);
  const consumedAt = async (id: string) => (await redemptionState(t, id)).consumedAt;
  const location = (res: { headers: Headers }) => new URL(res.headers.get('location') ?? 'about:blank');
  const jwks = async () => createLocalJWKSet((await t.get('/.well-known/jwks.json')).body as unknown as JSONWebKeySet);
  const pkce = () => {
    const verifier = randomBytes(32).toString('base64url');
    return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
  };

  it('should answer a GET with a confirmation page that consumes nothing', async () => {
    const link = await sendLink(web, { response_type: 'code', state: 'st-1', scope: 'openid' });
    for (let i = 0; i < 2; i++) {
      const res = await t.get(link.path);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      const csp = res.headers.get('content-security-policy') ?? '';
      const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
      expect(nonce).toBeDefined();
      expect(csp).toContain("form-action 'self' https://app.example.com");
      expect(res.text).toContain(`<script nonce="${nonce}">`);
      expect(res.text).toContain('<form id="verify" method="post" action="verify_redirect">');
      expect(res.text).toContain(`name="verification_code" value="${link.linkToken}"`);
    }
    expect(await consumedAt(link.id)).toBeNull();
  });

  it('should escape parameters in the page', async () => {
    const link = await sendLink(web, { state: '"><script>alert(1)</script>' });
    const res = await t.get(link.path);
    expect(res.text).not.toContain('<script>alert(1)');
    expect(res.text).toContain('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
  });

  it('should consume on POST, redirect with a code and state, and let the code redeem exactly once (PKCE S256)', async () => {
    const { verifier, challenge } = pkce();
    const nonce = randomBytes(8).toString('hex');
    const link = await sendLink(web, {
      response_type: 'code',
      state: 'st-2',
      scope: 'openid email',
      nonce,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });

    const res = await t.postForm('/passwordless/verify_redirect', link.params);
    expect(res.status).toBe(302);
    const target = location(res);
    expect(`${target.origin}${target.pathname}`).toBe(CALLBACK);
    expect(target.searchParams.get('state')).toBe('st-2');
    const code = target.searchParams.get('code')!;
    expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await consumedAt(link.id)).not.toBeNull();

    const again = await t.postForm('/passwordless/verify_redirect', link.params);
    expect(Object.fromEntries(location(again).searchParams)).toEqual({
      error: 'access_denied',
      error_description: 'Wrong email or verification code.',
      state: 'st-2',
    });

    const exchange = (fields: Record<string, string>) =>
      t.postForm('/oauth/token', {
        ...credentials(web),
        grant_type: 'authorization_code',
        code,
        redirect_uri: CALLBACK,
        ...fields,
      });
    const badVerifier = await exchange({ code_verifier: pkce().verifier });
    expect({ status: badVerifier.status, body: badVerifier.body }).toEqual({
      status: 403,
      body: { error: 'invalid_grant', error_description: 'Failed to verify code verifier' },
    });
    const tokens = await exchange({ code_verifier: verifier });
    expect(tokens.status).toBe(200);
    const { payload } = await jwtVerify(tokens.body.id_token as string, await jwks(), {
      issuer: t.config.issuerBaseUrl,
      audience: web.clientId,
    });
    expect(payload).toMatchObject({ nonce, email: link.email, email_verified: true });
    expect(tokens.body.scope).toBe('openid email');
    const replay = await exchange({ code_verifier: verifier });
    expect({ status: replay.status, body: replay.body }).toEqual({
      status: 403,
      body: { error: 'invalid_grant', error_description: 'Invalid authorization code' },
    });
  });

  it('should bind the code to its client and redirect_uri', async () => {
    const link = await sendLink(web, { response_type: 'code' });
    const code = location(await t.postForm('/passwordless/verify_redirect', link.params)).searchParams.get('code')!;
    const other = await createClient(t.dataSource);
    const stolen = await t.postForm('/oauth/token', { ...credentials(other), grant_type: 'authorization_code', code });
    expect(stolen.body).toEqual({ error: 'invalid_grant', error_description: 'Invalid authorization code' });
    const wrongUri = await t.postForm('/oauth/token', {
      ...credentials(web),
      grant_type: 'authorization_code',
      code,
      redirect_uri: 'https://app.example.com/other',
    });
    expect(wrongUri.body).toEqual({ error: 'invalid_grant', error_description: 'Invalid redirect_uri' });
    const noUri = await t.postForm('/oauth/token', { ...credentials(web), grant_type: 'authorization_code', code });
    expect(noUri.body).toEqual({ error: 'invalid_grant', error_description: 'Invalid redirect_uri' });
    const downgrade = await t.postForm('/oauth/token', {
      ...credentials(web),
      grant_type: 'authorization_code',
      code,
      redirect_uri: CALLBACK,
      code_verifier: pkce().verifier,
    });
    expect(downgrade.body).toEqual({ error: 'invalid_grant', error_description: 'Failed to verify code verifier' });
    expect(
      (
        await t.postForm('/oauth/token', {
          ...credentials(web),
          grant_type: 'authorization_code',
          code,
          redirect_uri: CALLBACK,
        })
      ).status,
    ).toBe(200);
  });

  it('should refuse a code flow without PKCE for a public client, consuming nothing', async () => {
    const link = await sendLink(spa, { response_type: 'code', state: 'st-p' });
    const res = await t.postForm('/passwordless/verify_redirect', link.params);
    expect(Object.fromEntries(location(res).searchParams)).toEqual({
      error: 'invalid_request',
      error_description: 'code_challenge is required for public clients (PKCE S256)',
      state: 'st-p',
    });
    expect(await consumedAt(link.id)).toBeNull();
  });

  it('should refuse a link whose parameters were rewritten, consuming nothing', async () => {
    const { challenge } = pkce();
    const link = await sendLink(web, {
      response_type: 'code',
      state: 'st-a',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    for (const altered of [
      { response_type: 'token' },
      { redirect_uri: 'https://app.example.com/other' },
      { code_challenge: undefined },
    ]) {
      const params = Object.fromEntries(
        Object.entries({ ...link.params, ...altered }).filter((e): e is [string, string] => e[1] !== undefined),
      );
      const target = location(await t.postForm('/passwordless/verify_redirect', params));
      const result = Object.fromEntries(target.hash ? new URLSearchParams(target.hash.slice(1)) : target.searchParams);
      expect(result).toMatchObject({ error: 'invalid_request' });
      expect(result.code).toBeUndefined();
    }
    expect(await consumedAt(link.id)).toBeNull();
  });

  it('should refuse response types whose grant the client lacks, at the link and at the token endpoint', async () => {
    const otpOnly = await createClient(t.dataSource, {
      grantTypes: ['http://auth0.com/oauth/grant-type/passwordless/otp'],
      callbacks: [CALLBACK],
    });
    for (const [responseType, grant] of [
      ['code', 'authorization_code'],
      ['token', 'implicit'],
    ]) {
      const link = await sendLink(otpOnly, { response_type: responseType, state: 'st-g' });
      const target = location(await t.postForm('/passwordless/verify_redirect', link.params));
      const result = Object.fromEntries(target.hash ? new URLSearchParams(target.hash.slice(1)) : target.searchParams);
      expect(result).toEqual({
        error: 'unauthorized_client',
        error_description: `Grant type '${grant}' not allowed for the client.`,
        state: 'st-g',
      });
      expect(await consumedAt(link.id)).toBeNull();
    }
    const exchange = await t.postForm('/oauth/token', {
      ...credentials(otpOnly),
      grant_type: 'authorization_code',
      code: 'x',
      redirect_uri: CALLBACK,
    });
    expect(exchange.body).toEqual({
      error: 'unauthorized_client',
      error_description: "Grant type 'authorization_code' not allowed for the client.",
    });
  });

  it('should refuse a javascript: callback even when registered', async () => {
    const odd = await createClient(t.dataSource, { callbacks: ['javascript:alert(1)'] });
    const res = await t.get(
      `/passwordless/verify_redirect?client_id=${odd.clientId}&redirect_uri=${encodeURIComponent('javascript:alert(1)')}&connection=email`,
    );
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
  });

  it('should return tokens in the fragment for response_type "id_token token"', async () => {
    const link = await sendLink(spa, { response_type: 'id_token token', state: 'st-3', nonce: 'n-3' });
    const res = await t.postForm('/passwordless/verify_redirect', link.params);
    const target = location(res);
    expect(target.search).toBe('');
    const fragment = Object.fromEntries(new URLSearchParams(target.hash.slice(1)));
    expect(fragment).toMatchObject({ token_type: 'Bearer', expires_in: '86400', scope: 'openid', state: 'st-3' });
    const { payload } = await jwtVerify(fragment.id_token, await jwks(), {
      issuer: t.config.issuerBaseUrl,
      audience: spa.clientId,
    });
    expect(payload).toMatchObject({ nonce: 'n-3', email: link.email });
    expect((await t.get('/userinfo', { authorization: `Bearer ${fragment.access_token}` })).body.email).toBe(
      link.email,
    );
  });

  it('should redirect errors to a valid redirect_uri without consuming, and render a page otherwise', async () => {
    const noNonce = await sendLink(spa, { response_type: 'id_token', state: 's' });
    const res = await t.postForm('/passwordless/verify_redirect', noNonce.params);
    expect(Object.fromEntries(new URLSearchParams(location(res).hash.slice(1)))).toEqual({
      error: 'invalid_request',
      error_description: 'nonce is required when response_type includes id_token',
      state: 's',
    });
    const unsupported = await t.postForm('/passwordless/verify_redirect', {
      ...noNonce.params,
      response_type: 'code token',
    });
    expect(location(unsupported).searchParams.get('error')).toBe('unsupported_response_type');
    expect(await consumedAt(noNonce.id)).toBeNull();

    const link = await sendLink(web, {});
    for (const params of [
      { ...link.params, redirect_uri: 'https://evil.example.com/' },
      { ...link.params, client_id: 'unknown' },
    ]) {
      for (const res of [
        await t.postForm('/passwordless/verify_redirect', params),
        await t.get(`/passwordless/verify_redirect?${new URLSearchParams(params).toString()}`),
      ]) {
        expect(res.status).toBe(400);
        expect(res.headers.get('location')).toBeNull();
        expect(res.text).toContain('This sign-in link cannot be used');
      }
    }
    expect(await consumedAt(link.id)).toBeNull();
  });

  it('should refuse a plain PKCE challenge and a code request without its code, changing nothing', async () => {
    const link = await sendLink(web, {
      response_type: 'code',
      code_challenge: 'a'.repeat(43),
      code_challenge_method: 'plain',
    });
    const res = await t.postForm('/passwordless/verify_redirect', link.params);
    expect(Object.fromEntries(location(res).searchParams)).toEqual({
      error: 'invalid_request',
      error_description: 'code_challenge must be a S256 challenge (code_challenge_method=S256)',
    });
    expect(await consumedAt(link.id)).toBeNull();
    const missing = await t.postForm('/oauth/token', { ...credentials(web), grant_type: 'authorization_code' });
    expect({ status: missing.status, body: missing.body }).toEqual({
      status: 400,
      body: { error: 'invalid_request', error_description: 'missing code parameter' },
    });
  });

  it('should render an error page, never a 5xx, for bodies that are not objects', async () => {
    for (const raw of ['null', '[1]', '5']) {
      const res = await t.post('/passwordless/verify_redirect', raw);
      expect(res.status).toBe(400);
      expect(res.text).toContain('This sign-in link cannot be used');
    }
  });

  it('should refuse a tampered link token and an expired link', async () => {
    const link = await sendLink(web, { state: 'x' });
    const tampered = await t.postForm('/passwordless/verify_redirect', {
      ...link.params,
      verification_code: randomBytes(32).toString('base64url'),
    });
    expect(location(tampered).searchParams.get('error_description')).toBe('Wrong email or verification code.');
    clock.advance(181_000);
    const expired = await t.postForm('/passwordless/verify_redirect', link.params);
    expect(Object.fromEntries(location(expired).searchParams)).toEqual({
      error: 'access_denied',
      error_description: 'The verification code has expired. Please try to login again.',
      state: 'x',
    });
  });

  describe('legacy POST /passwordless/verify then verify_redirect (auth0.js)', () => {
    it('should verify a code without consuming it, then consume it on the redirect step', async () => {
      const email = uniqueEmail();
      const { code, id } = await startFlow(t, inspector, spa, { connection: 'email', email, send: 'code' });
      const res = await t.post('/passwordless/verify', {
        connection: 'email',
        verification_code: code,
        email,
        client_id: spa.clientId,
      });
      expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: {} });
      expect(await consumedAt(id)).toBeNull();
      // The right code counted no failed attempt.
      expect((await redemptionState(t, id)).failedAttempts).toBe(0);
      const query = {
        client_id: spa.clientId,
        response_type: 'token',
        redirect_uri: CALLBACK,
        scope: 'openid',
        state: 'js',
        connection: 'email',
        email,
        verification_code: code,
      };
      const redirect = await t.postForm('/passwordless/verify_redirect', query);
      expect(new URLSearchParams(location(redirect).hash.slice(1)).get('access_token')).toBeTruthy();
      expect(await consumedAt(id)).not.toBeNull();
    });

    it('should leave the code usable at /oauth/token after a legacy verify', async () => {
      const phone = uniquePhone();
      const { code } = await startFlow(t, inspector, web, { connection: 'sms', phone_number: phone });
      expect(
        (
          await t.post('/passwordless/verify', {
            ...credentials(web),
            connection: 'sms',
            phone_number: phone,
            verification_code: code,
          })
        ).status,
      ).toBe(200);
      expect((await otpGrant(t, web, { username: phone, otp: code, realm: 'sms' })).status).toBe(200);
    });

    it.each([
      [{ verification_code: '1', email: 'a@example.com' }, 400, 'invalid_request', 'missing connection parameter'],
      [{ connection: 'email', verification_code: '1' }, 400, 'invalid_request', 'missing username parameter'],
      [{ connection: 'email', email: 'a@example.com' }, 400, 'invalid_request', 'missing password parameter'],
      [
        { connection: 'email', email: 'a@example.com', verification_code: '1', scope: 1 },
        400,
        'invalid_request',
        'scope parameter must be a string',
      ],
      [
        { connection: 'nope', email: 'a@example.com', verification_code: '1' },
        400,
        'invalid_request',
        'the connection was not found',
      ],
      [
        { connection: 'email', email: 'nobody@example.com', verification_code: '1' },
        401,
        'invalid_user_password',
        'Wrong email or verification code.',
      ],
      [
        { connection: 'sms', phone_number: '+12025550100', verification_code: '1' },
        401,
        'invalid_user_password',
        'Wrong phone number or verification code.',
      ],
    ])('should answer %j with %i %s', async (body, status, error, description) => {
      const res = await t.post('/passwordless/verify', { client_id: spa.clientId, ...body });
      expect({ status: res.status, body: res.body }).toEqual({
        status,
        body: { error, error_description: description },
      });
    });

    it('should answer missing client_id and too many attempts in Auth0’s words', async () => {
      const missing = await t.post('/passwordless/verify', {
        connection: 'email',
        email: 'a@example.com',
        verification_code: '1',
      });
      expect(missing.body).toEqual({ error: 'invalid_request', error_description: 'missing client_id parameter' });
      const email = uniqueEmail();
      const { code } = await startFlow(t, inspector, spa, { connection: 'email', email, send: 'code' });
      const wrong = {
        client_id: spa.clientId,
        connection: 'email',
        email,
        verification_code: code === '000000' ? '111111' : '000000',
      };
      for (let i = 0; i < 3; i++) expect((await t.post('/passwordless/verify', wrong)).status).toBe(401);
      const blocked = await t.post('/passwordless/verify', { ...wrong, verification_code: code });
      expect({ status: blocked.status, body: blocked.body }).toEqual({
        status: 429,
        body: {
          error: 'too_many_attempts',
          error_description: "You've reached the maximum number of attempts. Please try to login again.",
        },
      });
    });
  });
});
