import { createHash, randomBytes } from 'node:crypto';
import { decodeJwt } from 'jose';
import { AuthorizeRetention } from '../../src/authorize/authorize-retention';
import { QueueName } from '../../src/delivery/delivery.constants';
import { createClient, uniqueEmail, type TestClient } from '../utils/factories';
import { OTP_GRANT, readSecret } from '../utils/passwordless-flow';
import { QueueInspector } from '../utils/queue-inspector';
import { startTestApp, type TestApp, type TestResponse } from '../utils/test-app';

const CALLBACK = 'https://app.example.com/callback';
const APP_ORIGIN = 'https://app.example.com';

/** A browser's cookies for the service, kept by name as Set-Cookie headers come in. */
class CookieJar {
  private readonly cookies = new Map<string, string>();

  store(res: TestResponse): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      if (attributes.some((a) => a.trim() === 'Max-Age=0')) this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(eq + 1));
    }
  }

  header(): Record<string, string> {
    return this.cookies.size === 0
      ? {}
      : { cookie: [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ') };
  }

  has(name: string): boolean {
    return this.cookies.has(name);
  }
}

const pkce = () => {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
};

describe('GET /authorize, the hosted passwordless page and SSO sessions', () => {
  let t: TestApp;
  let inspector: QueueInspector;
  let spa: TestClient;

  beforeAll(async () => {
    // The per-identifier cooldown on (the test environment turns it off): the page's resend must honour it.
    t = await startTestApp({ env: { RATE_LIMIT_START_IDENTIFIER_COOLDOWN_MS: '30000' } });
    inspector = new QueueInspector(t.config);
    spa = await createClient(t.dataSource, {
      authMethod: 'none',
      appType: 'spa',
      connections: ['email', 'sms'],
      grantTypes: [OTP_GRANT, 'authorization_code', 'implicit', 'refresh_token'],
      callbacks: [CALLBACK],
      webOrigins: [APP_ORIGIN],
      allowedLogoutUrls: [`${APP_ORIGIN}/bye`],
    });
  });

  afterAll(async () => {
    await inspector.close();
    await t.close();
  });

  const q = (params: Record<string, string>) => new URLSearchParams(params).toString();
  const authorizeParams = (extra: Record<string, string> = {}) => {
    const { verifier, challenge } = pkce();
    const params = {
      client_id: spa.clientId,
      redirect_uri: CALLBACK,
      response_type: 'code',
      scope: 'openid email offline_access',
      state: 'st+/=' + randomBytes(4).toString('hex'),
      nonce: randomBytes(8).toString('hex'),
      code_challenge: challenge,
      code_challenge_method: 'S256',
      ...extra,
    };
    return { params, verifier };
  };
  const get = (jar: CookieJar, path: string, headers: Record<string, string> = {}) =>
    t.get(path, { ...jar.header(), ...headers }).then((res) => (jar.store(res), res));
  const post = (jar: CookieJar, path: string, fields: Record<string, string>) =>
    t.postForm(path, fields, jar.header()).then((res) => (jar.store(res), res));
  const txOf = (html: string) => /name="tx" value="([^"]+)"/.exec(html)![1];
  const locationOf = (res: TestResponse) => new URL(res.headers.get('location')!, t.baseUrl);

  /** Steps 1 and 2 on the hosted page; returns the callback's URL. */
  const hostedLogin = async (jar: CookieJar, params: Record<string, string>, email = uniqueEmail()) => {
    const page = await get(jar, `/authorize?${q(params)}`);
    expect(page.status).toBe(200);
    const step1 = await post(jar, '/authorize/identifier', {
      tx: txOf(page.text),
      connection: 'email',
      email,
      send: 'code',
    });
    expect(step1.status).toBe(302);
    const challenge = await get(jar, `${locationOf(step1).pathname}${locationOf(step1).search}`);
    expect(challenge.status).toBe(200);
    const code = await emailedCode(email);
    const done = await post(jar, '/authorize/challenge', { tx: txOf(challenge.text), code });
    return { done, email, challenge };
  };
  const emailedCode = async (email: string) => {
    const [row] = await t.dataSource.query<Array<{ id: string }>>(
      'SELECT id FROM verifications WHERE identifier = $1 ORDER BY created_at DESC LIMIT 1',
      [email],
    );
    return (await readSecret(t, inspector, row.id, QueueName.Email)).code;
  };
  const exchange = (code: string, verifier: string) =>
    t.postForm('/oauth/token', {
      grant_type: 'authorization_code',
      client_id: spa.clientId,
      code,
      code_verifier: verifier,
      redirect_uri: CALLBACK,
    });

  it('should list the authorization endpoint, response types and modes, and S256 in discovery', async () => {
    const res = await t.get('/.well-known/openid-configuration');
    expect(res.body).toMatchObject({
      authorization_endpoint: 'https://tenant.example.com/authorize',
      response_types_supported: expect.arrayContaining(['code', 'token', 'id_token', 'code id_token token']),
      response_modes_supported: ['query', 'fragment', 'form_post'],
      code_challenge_methods_supported: ['S256'],
    });
  });

  it('should log in on the hosted page and answer a code whose tokens carry nonce, auth_time, azp and sid', async () => {
    const jar = new CookieJar();
    const { params, verifier } = authorizeParams({ connection: 'email', ui_locales: 'fr' });
    const page = await get(jar, `/authorize?${q(params)}`);
    expect(page.headers.get('content-security-policy')).toMatch(/style-src 'nonce-[^']+'/);
    expect(page.headers.get('set-cookie')).toMatch(
      /^pwl_tx=[^;]+; Path=\/; HttpOnly; Max-Age=\d+; SameSite=Lax; Secure$/,
    );
    expect(page.text).toContain('<html lang="fr">');
    expect(page.text).toMatch(/<input id="email-0" name="email" type="email" autocomplete="email" required/);
    const { done, email, challenge } = await hostedLogin(jar, params);
    expect(challenge.text).toMatch(/autocomplete="one-time-code"/);
    expect(challenge.text).toMatch(/inputmode="numeric"/);
    expect(done.status).toBe(302);
    const callback = locationOf(done);
    expect(`${callback.origin}${callback.pathname}`).toBe(CALLBACK);
    expect(callback.searchParams.get('state')).toBe(params.state);
    expect(jar.has('pwl_session')).toBe(true);
    expect(jar.has('pwl_tx')).toBe(false);
    expect(done.headers.getSetCookie()[0]).toMatch(
      /^pwl_session=[A-Za-z0-9_-]{43}; .*HttpOnly.*SameSite=None; Secure$/,
    );

    const tokens = await exchange(callback.searchParams.get('code')!, verifier);
    expect(tokens.status).toBe(200);
    expect(tokens.body.refresh_token).toEqual(expect.any(String));
    const claims = decodeJwt(tokens.body.id_token as string);
    expect(claims).toMatchObject({ email, nonce: params.nonce, azp: spa.clientId, sid: expect.any(String) });
    expect(claims.auth_time).toBeGreaterThan(Date.now() / 1000 - 60);
    // The session id is stored only as an HMAC.
    const [session] = await t.dataSource.query<Array<{ id_hmac: string; sid: string }>>(
      'SELECT id_hmac, sid FROM sso_sessions WHERE sid = $1',
      [claims.sid],
    );
    expect(jar.header().cookie).not.toContain(session.id_hmac);

    // A refreshed id_token keeps the login's auth_time and sid (OpenID Connect Core §12.2), and carries no nonce.
    const refreshed = await t.postForm('/oauth/token', {
      grant_type: 'refresh_token',
      client_id: spa.clientId,
      refresh_token: tokens.body.refresh_token as string,
    });
    expect(refreshed.status).toBe(200);
    const refreshedClaims = decodeJwt(refreshed.body.id_token as string);
    expect(refreshedClaims).toMatchObject({ auth_time: claims.auth_time, sid: claims.sid, azp: spa.clientId });
    expect(refreshedClaims.nonce).toBeUndefined();
  });

  it('should answer prompt=none from the session (query and web_message), and login_required without one', async () => {
    const jar = new CookieJar();
    const first = authorizeParams();
    await hostedLogin(jar, first.params);

    const silent = authorizeParams({ prompt: 'none' });
    const res = await get(jar, `/authorize?${q(silent.params)}`);
    expect(res.status).toBe(302);
    const tokens = await exchange(locationOf(res).searchParams.get('code')!, silent.verifier);
    expect(decodeJwt(tokens.body.id_token as string).nonce).toBe(silent.params.nonce);

    const message = await get(
      jar,
      `/authorize?${q({ ...authorizeParams({ prompt: 'none' }).params, response_mode: 'web_message' })}`,
    );
    expect(message.status).toBe(200);
    expect(message.headers.get('content-security-policy')).toContain(`frame-ancestors ${APP_ORIGIN}`);
    expect(message.headers.get('x-frame-options')).toBeNull();
    expect(message.text).toMatch(
      /postMessage\(\{type:"authorization_response",response:\{"code":"[^"]+","state":"[^"]+"\}\},"https:\/\/app.example.com"\)/,
    );

    // Without the session cookie: login_required with state, in the response mode asked for.
    const none = await t.get(`/authorize?${q(silent.params)}`);
    expect(Object.fromEntries(locationOf(none).searchParams)).toEqual({
      error: 'login_required',
      error_description: 'Login required',
      state: silent.params.state,
    });
    const noneMessage = await t.get(`/authorize?${q({ ...silent.params, response_mode: 'web_message' })}`);
    expect(noneMessage.text).toContain('"error":"login_required","error_description":"Login required","state":');

    // Without prompt the session answers at once (SSO); prompt=login shows the page again.
    expect((await get(jar, `/authorize?${q(authorizeParams().params)}`)).status).toBe(302);
    expect((await get(jar, `/authorize?${q(authorizeParams({ prompt: 'login' }).params)}`)).status).toBe(200);

    // Logout ends the session.
    const out = await get(jar, `/v2/logout?${q({ client_id: spa.clientId, returnTo: `${APP_ORIGIN}/bye` })}`);
    expect(out.status).toBe(302);
    expect(jar.has('pwl_session')).toBe(false);
    const after = await t.get(`/authorize?${q(silent.params)}`, { cookie: `pwl_session=${'x'.repeat(43)}` });
    expect(locationOf(after).searchParams.get('error')).toBe('login_required');
  });

  it('should answer form_post with an auto-posting form and implicit types in the fragment', async () => {
    const jar = new CookieJar();
    await hostedLogin(jar, authorizeParams().params);
    const formPost = await get(jar, `/authorize?${q({ ...authorizeParams().params, response_mode: 'form_post' })}`);
    expect(formPost.status).toBe(200);
    expect(formPost.text).toContain(`<form method="post" action="${CALLBACK}"><input type="hidden" name="code"`);
    expect(formPost.headers.get('content-security-policy')).toContain(`form-action ${APP_ORIGIN}`);

    const implicit = await get(
      jar,
      `/authorize?${q({ client_id: spa.clientId, redirect_uri: CALLBACK, response_type: 'id_token token', nonce: 'n-1', state: 's' })}`,
    );
    const fragment = new URLSearchParams(locationOf(implicit).hash.slice(1));
    expect(fragment.get('token_type')).toBe('Bearer');
    expect(decodeJwt(fragment.get('id_token')!)).toMatchObject({ nonce: 'n-1', azp: spa.clientId });
    expect(fragment.get('state')).toBe('s');
  });

  it('should not complete a request from a browser without its transaction cookie', async () => {
    const jar = new CookieJar();
    const { params } = authorizeParams();
    const page = await get(jar, `/authorize?${q(params)}`);
    const email = uniqueEmail();
    const step1 = await post(jar, '/authorize/identifier', { tx: txOf(page.text), connection: 'email', email });
    const challenge = await get(jar, `${locationOf(step1).pathname}${locationOf(step1).search}`);
    const code = await emailedCode(email);

    const other = new CookieJar();
    const otherPage = await get(other, `/authorize?${q(params)}`);
    for (const attempt of [
      () => t.postForm('/authorize/challenge', { tx: txOf(challenge.text), code }),
      () => post(other, '/authorize/challenge', { tx: txOf(challenge.text), code }),
      () => post(other, '/authorize/challenge', { tx: txOf(otherPage.text), code }),
    ]) {
      const res = await attempt();
      expect(res.status).toBe(400);
      expect(res.text).toContain('The login request has expired or was started in another browser.');
    }
    // The code is still good for the browser that asked for it.
    const done = await post(jar, '/authorize/challenge', { tx: txOf(challenge.text), code });
    expect(locationOf(done).searchParams.get('code')).toEqual(expect.any(String));
  });

  it("should show Auth0's texts for a wrong code and a bad email on the page", async () => {
    const jar = new CookieJar();
    const page = await get(jar, `/authorize?${q(authorizeParams().params)}`);
    const bad = await post(jar, '/authorize/identifier', { tx: txOf(page.text), connection: 'email', email: 'nope' });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('Email is not valid.');
    const email = uniqueEmail();
    const step1 = await post(jar, '/authorize/identifier', { tx: txOf(bad.text), connection: 'email', email });
    const challenge = await get(jar, `${locationOf(step1).pathname}${locationOf(step1).search}`);
    const wrong = await post(jar, '/authorize/challenge', { tx: txOf(challenge.text), code: '000000x' });
    expect(wrong.status).toBe(400);
    expect(wrong.text).toContain('Wrong email or verification code.');
    expect(wrong.text).toContain('aria-invalid="true"');
    // Resend right away: the per-identifier cooldown answers on the page.
    const resend = await post(jar, '/authorize/resend', { tx: txOf(challenge.text) });
    expect(resend.status).toBe(429);
    expect(resend.text).toContain('Too many requests.');
  });

  describe('errors: on the page until redirect_uri is trusted, then redirected with state', () => {
    const base = () => ({
      client_id: spa.clientId,
      redirect_uri: CALLBACK,
      response_type: 'code',
      state: 'xyz',
      code_challenge: pkce().challenge,
      code_challenge_method: 'S256',
    });
    const pageRows: Array<[string, () => string, string]> = [
      [
        'no client_id',
        () => q({ redirect_uri: CALLBACK }),
        'invalid_request</code>: Missing required parameter: client_id',
      ],
      ['unknown client', () => q({ ...base(), client_id: 'nope' }), 'invalid_request</code>: Unknown client: nope'],
      ['no redirect_uri', () => q({ client_id: spa.clientId }), 'Missing required parameter: redirect_uri'],
      [
        'redirect_uri not a callback',
        () => q({ ...base(), redirect_uri: 'https://evil.example.net/cb' }),
        'unauthorized_client</code>: Callback URL mismatch. https://evil.example.net/cb is not in the list of allowed callback URLs',
      ],
      ['repeated parameter', () => `${q(base())}&state=again`, 'Parameter state must be given once.'],
      ['parameter too long', () => q({ ...base(), state: 'x'.repeat(5000) }), 'Parameter state is too long.'],
    ];
    it.each(pageRows)('%s: error page, no redirect', async (_name, query, text) => {
      const res = await t.get(`/authorize?${query()}`);
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      expect(res.text).toContain(text);
    });

    it('web_message to an origin that is not an Allowed Web Origin: error page', async () => {
      const other = await createClient(t.dataSource, { callbacks: ['https://other.example.com/cb'] });
      const res = await t.get(
        `/authorize?${q({ ...base(), client_id: other.clientId, redirect_uri: 'https://other.example.com/cb', response_mode: 'web_message' })}`,
      );
      expect(res.status).toBe(400);
      expect(res.text).toContain(
        'invalid_request</code>: The specified redirect_uri &#39;https://other.example.com/cb&#39; does not have a registered origin.',
      );
    });

    const redirectRows: Array<[string, Record<string, string>, string, string]> = [
      ['no response_type', { response_type: '' }, 'invalid_request', 'Missing required parameter: response_type'],
      [
        'unknown response_type',
        { response_type: 'code foo' },
        'unsupported_response_type',
        'Unsupported response type: code foo',
      ],
      ['unknown response_mode', { response_mode: 'post' }, 'invalid_request', 'Unsupported response_mode: post'],
      [
        'tokens in the query',
        { response_type: 'token', response_mode: 'query' },
        'invalid_request',
        'response_mode=query is not allowed when response_type returns tokens',
      ],
      [
        'id_token without nonce',
        { response_type: 'id_token', response_mode: 'query' },
        'invalid_request',
        'response_mode=query is not allowed when response_type returns tokens',
      ],
      [
        'public client without PKCE',
        { code_challenge: '', code_challenge_method: '' },
        'invalid_request',
        'code_challenge is required for public clients (PKCE S256)',
      ],
      [
        'plain PKCE',
        { code_challenge_method: 'plain' },
        'invalid_request',
        'code_challenge must be a S256 challenge (code_challenge_method=S256)',
      ],
      ['unknown prompt', { prompt: 'maybe' }, 'invalid_request', 'Unsupported prompt: maybe'],
      ['prompt none with login', { prompt: 'none login' }, 'invalid_request', 'Unsupported prompt: none login'],
      ['bad max_age', { max_age: '-1' }, 'invalid_request', 'max_age must be a non-negative integer'],
      ['unknown connection', { connection: 'github' }, 'invalid_request', 'the connection was not found'],
      [
        'unknown audience',
        { audience: 'https://api.unknown' },
        'access_denied',
        'Service not found: https://api.unknown',
      ],
      ['prompt=none without a session', { prompt: 'none' }, 'login_required', 'Login required'],
      ['invalid login_ticket', { login_ticket: 'nope' }, 'access_denied', 'Invalid or expired login_ticket'],
    ];
    it.each(redirectRows)('%s: redirected with state', async (_name, extra, error, description) => {
      const params: Record<string, string> = { ...base(), ...extra };
      for (const key of Object.keys(params)) if (params[key] === '') delete params[key];
      const res = await t.get(`/authorize?${q(params)}`);
      expect(res.status).toBe(302);
      const url = locationOf(res);
      expect(`${url.origin}${url.pathname}`).toBe(CALLBACK);
      expect(Object.fromEntries(url.searchParams)).toEqual({ error, error_description: description, state: 'xyz' });
    });

    it('a fragment response type gets its errors in the fragment; a grant the client lacks is refused', async () => {
      const noNonce = await t.get(`/authorize?${q({ ...base(), response_type: 'id_token' })}`);
      expect(Object.fromEntries(new URLSearchParams(locationOf(noNonce).hash.slice(1)))).toEqual({
        error: 'invalid_request',
        error_description: 'nonce is required when response_type includes id_token',
        state: 'xyz',
      });
      const codeOnly = await createClient(t.dataSource, {
        grantTypes: [OTP_GRANT, 'authorization_code'],
        callbacks: [CALLBACK],
      });
      const res = await t.get(`/authorize?${q({ ...base(), client_id: codeOnly.clientId, response_type: 'token' })}`);
      expect(new URLSearchParams(locationOf(res).hash.slice(1)).get('error_description')).toBe(
        "Grant type 'implicit' not allowed for the client.",
      );
    });

    it('bad form posts and cookies never answer 5xx', async () => {
      for (const res of [
        await t.postForm('/authorize/identifier', {}),
        await t.postForm('/authorize/challenge', { tx: 'x', code: '1' }, { cookie: 'pwl_tx=garbage.sig' }),
        await t.postForm('/authorize/resend', { tx: 'x' }, { cookie: `pwl_tx=${'a'.repeat(5000)}` }),
        await t.get('/authorize/challenge?tx=1', { cookie: 'pwl_tx=.; pwl_session=%%%' }),
        await t.get(`/authorize?${q(base())}`, { cookie: 'pwl_session=../../etc' }),
      ])
        expect(res.status).toBeLessThan(500);
    });
  });

  describe('POST /co/authenticate and /authorize?login_ticket', () => {
    const coBody = (fields: Record<string, string>) => ({
      client_id: spa.clientId,
      credential_type: OTP_GRANT,
      realm: 'email',
      ...fields,
    });
    const startCode = async (email: string) => {
      const res = await t.post('/passwordless/start', {
        client_id: spa.clientId,
        connection: 'email',
        email,
        send: 'code',
      });
      expect(res.status).toBe(200);
      return emailedCode(email);
    };
    const origin = { origin: APP_ORIGIN };

    it('should trade a code for a single-use ticket that /authorize redeems for the same client only', async () => {
      const email = uniqueEmail();
      const otp = await startCode(email);
      const res = await t.post('/co/authenticate', coBody({ username: email, otp }), origin);
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
      expect(res.headers.get('access-control-allow-credentials')).toBe('true');
      expect(res.body).toEqual({
        login_ticket: expect.any(String),
        co_verifier: expect.any(String),
        co_id: expect.any(String),
      });
      const params = {
        client_id: spa.clientId,
        redirect_uri: CALLBACK,
        response_type: 'token id_token',
        nonce: 'n',
        state: 's',
        realm: 'email',
      };
      const ticket = res.body.login_ticket as string;
      const ok = await t.get(`/authorize?${q({ ...params, login_ticket: ticket })}`);
      const fragment = new URLSearchParams(locationOf(ok).hash.slice(1));
      expect(decodeJwt(fragment.get('id_token')!)).toMatchObject({ email, nonce: 'n', sid: expect.any(String) });
      expect(ok.headers.getSetCookie()[0]).toMatch(/^pwl_session=/);
      const again = await t.get(`/authorize?${q({ ...params, login_ticket: ticket })}`);
      expect(new URLSearchParams(locationOf(again).hash.slice(1)).get('error')).toBe('access_denied');
    });

    it('should bind a hybrid response’s code to its id_token with c_hash (OIDC Core §3.3.2.11)', async () => {
      const email = uniqueEmail();
      const otp = await startCode(email);
      const ticket = (await t.post('/co/authenticate', coBody({ username: email, otp }), origin)).body.login_ticket;
      const { params } = authorizeParams({ response_type: 'code id_token', realm: 'email' });
      const ok = await t.get(`/authorize?${q({ ...params, login_ticket: ticket as string })}`);
      const fragment = new URLSearchParams(locationOf(ok).hash.slice(1));
      const code = fragment.get('code')!;
      const digest = createHash('sha256').update(code).digest();
      expect(decodeJwt(fragment.get('id_token')!)).toMatchObject({
        email,
        nonce: params.nonce,
        c_hash: digest.subarray(0, 16).toString('base64url'),
      });
    });

    it("should answer Auth0's errors", async () => {
      const email = uniqueEmail();
      const cases: Array<[Record<string, unknown>, Record<string, string>, number, string, string]> = [
        [
          coBody({ username: email }),
          origin,
          400,
          'invalid_request',
          'Invalid request body. All and only of client_id, credential_type, username, otp, realm are required.',
        ],
        [
          { ...coBody({ username: email, otp: '1' }), extra: 'x' },
          origin,
          400,
          'invalid_request',
          'Invalid request body. All and only of client_id, credential_type, username, otp, realm are required.',
        ],
        [coBody({ username: email, otp: '1' }), {}, 401, 'unauthorized_client', 'Cross origin login not allowed.'],
        [
          coBody({ username: email, otp: '1', credential_type: 'password' }),
          origin,
          400,
          'unsupported_credential_type',
          'Unsupported credential_type.',
        ],
        [coBody({ username: email, otp: '1', realm: 'nope' }), origin, 400, 'invalid_request', 'Unknown realm nope.'],
        [coBody({ username: email, otp: '123456' }), origin, 403, 'access_denied', 'Wrong email or verification code.'],
        [
          coBody({ username: email, otp: '1' }),
          { origin: 'https://evil.example.net' },
          403,
          'access_denied',
          'Origin https://evil.example.net is not allowed.',
        ],
      ];
      for (const [body, headers, status, error, description] of cases) {
        const res = await t.post('/co/authenticate', body, headers);
        expect({ status: res.status, body: res.body }).toEqual({
          status,
          body: { error, error_description: description },
        });
      }
    });
  });

  it('should delete expired sessions and login tickets on the retention timer', async () => {
    const jar = new CookieJar();
    await hostedLogin(jar, authorizeParams().params);
    await t.dataSource.query(
      `UPDATE sso_sessions SET expires_at = now() - interval '1 second' WHERE sid IN (SELECT sid FROM sso_sessions ORDER BY created_at DESC LIMIT 1)`,
    );
    expect(await t.app.get(AuthorizeRetention).sweep()).toBeGreaterThanOrEqual(1);
    const res = await get(jar, `/authorize?${q(authorizeParams({ prompt: 'none' }).params)}`);
    expect(locationOf(res).searchParams.get('error')).toBe('login_required');
  });
});
