import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { Clock } from '../../src/common/clock';
import { createClient, signAssertion, uniqueEmail, uniquePhone, type TestClient } from '../utils/factories';
import { credentials, ManualClock, OTP_GRANT, otpGrant, redemptionState, startFlow } from '../utils/passwordless-flow';
import { QueueInspector } from '../utils/queue-inspector';
import { startTestApp, type TestApp } from '../utils/test-app';

const API = 'https://api.example.com/';
const WRONG_EMAIL = { error: 'invalid_grant', error_description: 'Wrong email or verification code.' };
const MAX_ATTEMPTS = {
  error: 'invalid_grant',
  error_description: "You've reached the maximum number of attempts. Please try to login again.",
};

describe('POST /oauth/token (passwordless OTP grant)', () => {
  let t: TestApp;
  let inspector: QueueInspector;
  let web: TestClient;

  beforeAll(async () => {
    t = await startTestApp({ env: { TOKEN_AUDIENCES: `${API} read:messages write:messages, urn:no-scopes` } });
    inspector = new QueueInspector(t.config);
    web = await createClient(t.dataSource);
  });

  afterAll(async () => {
    await inspector.close();
    await t.close();
  });

  const emailCode = async (client: TestClient = web, email = uniqueEmail()) => ({
    email,
    ...(await startFlow(t, inspector, client, { connection: 'email', email, send: 'code' })),
  });
  const jwks = async () => createLocalJWKSet((await t.get('/.well-known/jwks.json')).body as unknown as JSONWebKeySet);
  const failedAttempts = async (id: string) => (await redemptionState(t, id)).failedAttempts;

  describe('success', () => {
    it('should exchange an email code for an id_token that verifies against the served JWKS', async () => {
      const { email, code } = await emailCode(web, uniqueEmail().replace('user', 'User'));
      const res = await otpGrant(t, web, {
        username: email,
        otp: code,
        realm: 'email',
        scope: 'openid email offline_access',
      });

      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.body).toEqual({
        access_token: expect.any(String),
        id_token: expect.any(String),
        token_type: 'Bearer',
        expires_in: 86400,
        scope: 'openid email',
      });
      expect(decodeProtectedHeader(res.body.id_token as string)).toMatchObject({
        alg: 'RS256',
        kid: expect.any(String),
      });
      const { payload } = await jwtVerify(res.body.id_token as string, await jwks(), {
        issuer: 'https://tenant.example.com/',
        audience: web.clientId,
      });
      expect(payload).toMatchObject({
        sub: expect.stringMatching(/^email\|[0-9a-f]{24}$/),
        email: email.toLowerCase(),
        email_verified: true,
      });
      expect(payload.exp! - payload.iat!).toBe(36000);
      expect(payload.nonce).toBeUndefined();
      const users = await t.dataSource.query('SELECT user_id, verified FROM users WHERE identifier = $1', [
        email.toLowerCase(),
      ]);
      expect(users).toEqual([{ user_id: payload.sub, verified: true }]);
    });

    it('should accept JSON and log an SMS user in with phone claims, keeping the same user on the next login', async () => {
      const phone = uniquePhone();
      const login = async () => {
        const { code } = await startFlow(t, inspector, web, { connection: 'sms', phone_number: phone });
        return t.post('/oauth/token', {
          ...credentials(web),
          grant_type: OTP_GRANT,
          username: phone,
          otp: code,
          realm: 'sms',
          scope: 'openid',
        });
      };
      const first = await login();
      const second = await login();
      expect(first.status).toBe(200);
      const claims = [first, second].map(
        async (res) => (await jwtVerify(res.body.id_token as string, await jwks())).payload,
      );
      const [a, b] = await Promise.all(claims);
      expect(a).toMatchObject({
        sub: expect.stringMatching(/^sms\|[0-9a-f]{24}$/),
        phone_number: phone,
        phone_verified: true,
      });
      expect(b.sub).toBe(a.sub);
    });

    it('should omit the id_token without openid and answer /userinfo with the access token', async () => {
      const { email, code } = await emailCode();
      const res = await otpGrant(t, web, { username: email, otp: code, realm: 'email' });
      expect(res.status).toBe(200);
      expect(res.body.id_token).toBeUndefined();
      expect(res.body.refresh_token).toBeUndefined();
      const info = await t.get('/userinfo', { authorization: `Bearer ${res.body.access_token as string}` });
      expect(info.status).toBe(200);
      expect(info.body).toEqual({ sub: expect.stringMatching(/^email\|/), email, email_verified: true });
    });

    it('should issue an access token for a configured audience, also valid at /userinfo', async () => {
      const { email, code } = await emailCode();
      const res = await otpGrant(t, web, {
        username: email,
        otp: code,
        realm: 'email',
        audience: API,
        scope: 'openid',
      });
      expect(res.status).toBe(200);
      const { payload, protectedHeader } = await jwtVerify(res.body.access_token as string, await jwks(), {
        issuer: 'https://tenant.example.com/',
        audience: API,
      });
      expect(protectedHeader.typ).toBe('at+jwt');
      expect(payload.aud).toEqual([API, 'https://tenant.example.com/userinfo']);
      expect(payload).toMatchObject({ azp: web.clientId, scope: 'openid' });
      expect((await t.get('/userinfo', { authorization: `Bearer ${res.body.access_token as string}` })).status).toBe(
        200,
      );
    });

    it('should grant only OIDC scopes and the scopes the requested API defines, and say so in `scope`', async () => {
      const grant = async (fields: Record<string, string>) => {
        const { email, code } = await emailCode();
        const res = await otpGrant(t, web, { username: email, otp: code, realm: 'email', ...fields });
        expect(res.status).toBe(200);
        const { payload } = await jwtVerify(res.body.access_token as string, await jwks(), {
          issuer: 'https://tenant.example.com/',
        });
        expect(payload.scope).toBe(res.body.scope);
        return res.body.scope;
      };
      const requested = 'openid profile email read:messages admin:everything read:messages';
      expect(await grant({ audience: API, scope: requested })).toBe('openid profile email read:messages');
      expect(await grant({ audience: 'urn:no-scopes', scope: requested })).toBe('openid profile email');
      expect(await grant({ scope: requested })).toBe('openid profile email');
      expect(await grant({ audience: API, scope: 'admin:everything' })).toBe('');
    });

    it('should authenticate a private_key_jwt client and a public native client', async () => {
      const pkjwt = await createClient(t.dataSource, { authMethod: 'private_key_jwt' });
      const native = await createClient(t.dataSource, { authMethod: 'none', appType: 'native' });
      const a = await emailCode(pkjwt);
      const assertion = await signAssertion(pkjwt, 'https://tenant.example.com/oauth/token');
      const res = await t.postForm('/oauth/token', {
        client_id: pkjwt.clientId,
        client_assertion: assertion,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        grant_type: OTP_GRANT,
        username: a.email,
        otp: a.code,
        realm: 'email',
      });
      expect(res.status).toBe(200);
      const b = await emailCode(native);
      expect((await otpGrant(t, native, { username: b.email, otp: b.code, realm: 'email' })).status).toBe(200);
    });
  });

  describe('errors (Auth0 §4.3, verbatim)', () => {
    it('should refuse a client without the grant, and a single-page app', async () => {
      const noGrant = await createClient(t.dataSource, { grantTypes: ['authorization_code'] });
      const spa = await createClient(t.dataSource, { authMethod: 'none', appType: 'spa' });
      const expected = {
        error: 'unauthorized_client',
        error_description: `Grant type '${OTP_GRANT}' not allowed for the client.`,
      };
      for (const client of [noGrant, spa]) {
        const res = await otpGrant(t, client, { username: uniqueEmail(), otp: '123456', realm: 'email' });
        expect({ status: res.status, body: res.body }).toEqual({ status: 403, body: expected });
      }
    });

    it.each([
      [{ otp: '1', realm: 'email' }, 'missing username parameter'],
      [{ username: 'a@example.com', realm: 'email' }, 'missing otp parameter'],
      [{ username: 'a@example.com', otp: '1' }, 'missing realm parameter'],
      [{ username: 'a@example.com', otp: '1', realm: 'nope' }, 'the connection was not found'],
    ])('should answer 400 invalid_request for %j', async (fields, description) => {
      const res = await otpGrant(t, web, fields);
      expect({ status: res.status, body: res.body }).toEqual({
        status: 400,
        body: { error: 'invalid_request', error_description: description },
      });
    });

    it('should answer the connection was disabled when the realm is not enabled for the client', async () => {
      const emailOnly = await createClient(t.dataSource, { connections: ['email'] });
      const res = await otpGrant(t, emailOnly, { username: uniquePhone(), otp: '123456', realm: 'sms' });
      expect({ status: res.status, body: res.body }).toEqual({
        status: 400,
        body: { error: 'invalid_request', error_description: 'the connection was disabled' },
      });
    });

    it('should refuse grant_type problems and repeated parameters', async () => {
      const missing = await t.postForm('/oauth/token', credentials(web));
      expect({ status: missing.status, body: missing.body }).toEqual({
        status: 400,
        body: { error: 'invalid_request', error_description: 'missing grant_type parameter' },
      });
      const unknown = await t.postForm('/oauth/token', { ...credentials(web), grant_type: 'password' });
      expect({ status: unknown.status, body: unknown.body }).toEqual({
        status: 400,
        body: { error: 'unsupported_grant_type', error_description: 'Unsupported grant type: password' },
      });
      const form = `${new URLSearchParams({ ...credentials(web), grant_type: OTP_GRANT, username: 'a@example.com', realm: 'email' }).toString()}&otp=1&otp=2`;
      const repeated = await t.post('/oauth/token', form, { 'content-type': 'application/x-www-form-urlencoded' });
      expect({ status: repeated.status, body: repeated.body }).toEqual({
        status: 400,
        body: { error: 'invalid_request', error_description: 'otp parameter must be a string' },
      });
    });

    it('should answer a non-object body with Basic client authentication as missing parameters, never a 5xx', async () => {
      const basic = `Basic ${Buffer.from(`${web.clientId}:${web.secret!}`).toString('base64')}`;
      for (const raw of ['null', '[1]', '5', '"x"']) {
        const res = await t.post('/oauth/token', raw, { authorization: basic });
        expect(res.status).toBeLessThan(500);
        expect(res.body.error).toBe('invalid_request');
      }
    });

    it('should refuse bad client authentication', async () => {
      const wrong = await t.postForm('/oauth/token', {
        client_id: web.clientId,
        client_secret: 'nope',
        grant_type: OTP_GRANT,
      });
      expect({ status: wrong.status, error: wrong.body.error }).toEqual({ status: 401, error: 'invalid_client' });
      const none = await t.postForm('/oauth/token', { client_id: web.clientId, grant_type: OTP_GRANT });
      expect({ status: none.status, body: none.body }).toEqual({
        status: 403,
        body: { error: 'unauthorized_client', error_description: 'Client authentication is required' },
      });
    });

    it('should answer Wrong email/phone when no code was requested or the code is wrong', async () => {
      const never = await otpGrant(t, web, { username: uniqueEmail(), otp: '123456', realm: 'email' });
      expect({ status: never.status, body: never.body }).toEqual({ status: 403, body: WRONG_EMAIL });
      const { phone, code } = await (async () => {
        const p = uniquePhone();
        return { phone: p, ...(await startFlow(t, inspector, web, { connection: 'sms', phone_number: p })) };
      })();
      const wrong = await otpGrant(t, web, {
        username: phone,
        otp: code === '000000' ? '111111' : '000000',
        realm: 'sms',
      });
      expect({ status: wrong.status, body: wrong.body }).toEqual({
        status: 403,
        body: { error: 'invalid_grant', error_description: 'Wrong phone number or verification code.' },
      });
      const malformed = await otpGrant(t, web, { username: '+1', otp: code, realm: 'sms' });
      expect(malformed.body.error_description).toBe('Wrong phone number or verification code.');
    });

    it('should refuse an unknown audience without spending the code', async () => {
      const { email, code } = await emailCode();
      const res = await otpGrant(t, web, {
        username: email,
        otp: code,
        realm: 'email',
        audience: 'https://other.example.com/',
      });
      expect({ status: res.status, body: res.body }).toEqual({
        status: 403,
        body: { error: 'access_denied', error_description: 'Service not found: https://other.example.com/' },
      });
      expect((await otpGrant(t, web, { username: email, otp: code, realm: 'email' })).status).toBe(200);
    });

    it('should allow three failed attempts, then refuse even the right code', async () => {
      const { email, code, id } = await emailCode();
      const wrongCode = code === '000000' ? '111111' : '000000';
      for (let i = 0; i < 3; i++)
        expect((await otpGrant(t, web, { username: email, otp: wrongCode, realm: 'email' })).body).toEqual(WRONG_EMAIL);
      const res = await otpGrant(t, web, { username: email, otp: code, realm: 'email' });
      expect({ status: res.status, body: res.body }).toEqual({ status: 403, body: MAX_ATTEMPTS });
      expect(await failedAttempts(id)).toBe(3);
    });

    it('should not count a successful attempt as failed', async () => {
      const { email, code, id } = await emailCode();
      await otpGrant(t, web, { username: email, otp: code === '000000' ? '111111' : '000000', realm: 'email' });
      expect((await otpGrant(t, web, { username: email, otp: code, realm: 'email' })).status).toBe(200);
      expect(await failedAttempts(id)).toBe(1);
    });

    it('should invalidate the old code when a new one is requested', async () => {
      const email = uniqueEmail();
      const first = await emailCode(web, email);
      const second = await emailCode(web, email);
      expect((await otpGrant(t, web, { username: email, otp: first.code, realm: 'email' })).body).toEqual(
        first.code === second.code ? expect.anything() : WRONG_EMAIL,
      );
      expect((await otpGrant(t, web, { username: email, otp: second.code, realm: 'email' })).status).toBe(200);
    });
  });

  describe('under concurrency (real Postgres)', () => {
    it('should never let 20 concurrent wrong guesses exceed the attempt cap', async () => {
      const { email, code, id } = await emailCode();
      const wrongCode = code === '000000' ? '111111' : '000000';
      const results = await Promise.all(
        Array.from({ length: 20 }, () => otpGrant(t, web, { username: email, otp: wrongCode, realm: 'email' })),
      );
      expect(results.every((r) => r.status === 403)).toBe(true);
      expect(results.filter((r) => r.body.error_description === WRONG_EMAIL.error_description)).toHaveLength(3);
      expect(await failedAttempts(id)).toBe(3);
      expect((await otpGrant(t, web, { username: email, otp: code, realm: 'email' })).body).toEqual(MAX_ATTEMPTS);
    });

    it('should redeem a code exactly once when 10 requests race with it', async () => {
      const { email, code } = await emailCode();
      const results = await Promise.all(
        Array.from({ length: 10 }, () => otpGrant(t, web, { username: email, otp: code, realm: 'email' })),
      );
      expect(results.filter((r) => r.status === 200)).toHaveLength(1);
      // A right code counts no failed attempt, so every loser lost the race to spend the code (never "too many attempts").
      const losers = results.filter((r) => r.status !== 200);
      expect(losers).toHaveLength(9);
      for (const loser of losers) expect(loser.body).toEqual(WRONG_EMAIL);
    });

    it('should keep the cap and single use when the right code races wrong ones for the last attempt', async () => {
      const { email, code, id } = await emailCode();
      const wrongCode = code === '000000' ? '111111' : '000000';
      for (let i = 0; i < 2; i++) await otpGrant(t, web, { username: email, otp: wrongCode, realm: 'email' });
      const [right, ...wrong] = await Promise.all(
        [code, wrongCode, wrongCode, wrongCode, wrongCode].map((otp) =>
          otpGrant(t, web, { username: email, otp, realm: 'email' }),
        ),
      );
      const consumed = (await redemptionState(t, id)).consumedAt;
      // Either the right code spent the record first (every later wrong guess then found it spent), or a wrong guess
      // took the last attempt (the right code is then refused): never both, never past the cap.
      if (right.status === 200) {
        expect(consumed).not.toBeNull();
        expect(await failedAttempts(id)).toBe(2); // a wrong guess counted before it would have taken the last attempt
      } else {
        expect(right.body).toEqual(MAX_ATTEMPTS);
        expect(consumed).toBeNull();
        expect(await failedAttempts(id)).toBe(3);
      }
      for (const res of wrong) expect([WRONG_EMAIL, MAX_ATTEMPTS]).toContainEqual(res.body);
    });
  });

  describe('discovery and userinfo', () => {
    it('should publish OpenID configuration and a JWKS with the signing key', async () => {
      const config = await t.get('/.well-known/openid-configuration');
      expect(config.body).toMatchObject({
        issuer: 'https://tenant.example.com/',
        token_endpoint: 'https://tenant.example.com/oauth/token',
        jwks_uri: 'https://tenant.example.com/.well-known/jwks.json',
        userinfo_endpoint: 'https://tenant.example.com/userinfo',
        id_token_signing_alg_values_supported: ['RS256'],
      });
      const keys = (await t.get('/.well-known/jwks.json')).body.keys as Array<Record<string, unknown>>;
      expect(keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: expect.any(String) });
      expect(keys[0].d).toBeUndefined();
    });

    it('should refuse /userinfo without a token, with a forged one, or with an id_token', async () => {
      const { email, code } = await emailCode();
      const tokens = (await otpGrant(t, web, { username: email, otp: code, realm: 'email', scope: 'openid' })).body;
      const [header, payload] = (tokens.access_token as string).split('.');
      for (const authorization of [
        undefined,
        'Bearer nope',
        `Bearer ${header}.${payload}.AAAA`,
        `Bearer ${tokens.id_token as string}`,
      ]) {
        const res = await t.get('/userinfo', authorization ? { authorization } : {});
        expect(res.status).toBe(401);
        expect(res.body.error).toBe('invalid_token');
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
      }
    });
  });
});

describe('POST /oauth/token code expiry (injected clock)', () => {
  const clock = new ManualClock();
  let t: TestApp;
  let inspector: QueueInspector;
  let web: TestClient;

  beforeAll(async () => {
    t = await startTestApp({ overrides: [{ provide: Clock, useValue: clock }] });
    inspector = new QueueInspector(t.config);
    web = await createClient(t.dataSource);
  });

  afterAll(async () => {
    await inspector.close();
    await t.close();
  });

  it('should refuse a code after its 180-second lifetime', async () => {
    const email = uniqueEmail();
    const { code } = await startFlow(t, inspector, web, { connection: 'email', email, send: 'code' });
    clock.advance(181_000);
    const res = await otpGrant(t, web, { username: email, otp: code, realm: 'email' });
    expect({ status: res.status, body: res.body }).toEqual({
      status: 403,
      body: {
        error: 'invalid_grant',
        error_description: 'The verification code has expired. Please try to login again.',
      },
    });
  });

  it('should refuse an access token at /userinfo once it has expired', async () => {
    const email = uniqueEmail();
    const { code } = await startFlow(t, inspector, web, { connection: 'email', email, send: 'code' });
    const tokens = (await otpGrant(t, web, { username: email, otp: code, realm: 'email' })).body;
    clock.advance(86_401_000);
    expect((await t.get('/userinfo', { authorization: `Bearer ${tokens.access_token as string}` })).status).toBe(401);
  });
});
