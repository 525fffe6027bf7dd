import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { PASSWORDLESS_OTP_GRANT } from '../../src/clients/client.entity';
import { launchBrowser } from '../utils/chromium';
import { createClient, uniqueEmail, uniquePhone, type TestClient } from '../utils/factories';
import { FakeSmsGateway } from '../utils/fake-sms-vendors';
import { freePort, waitFor } from '../utils/redis-process';
import { SmtpSink } from '../utils/smtp-sink';
import { startTestApp, type TestApp } from '../utils/test-app';
import { filePrefix, startTestWorker, type TestWorker } from '../utils/test-worker';
import { selfSignedCertificate, type SelfSignedCertificate } from '../utils/tls';

const MODULES = join(__dirname, '..', '..', 'node_modules');
/** The unmodified SDK builds, as an application would load them. */
const SPA_JS = readFileSync(join(MODULES, '@auth0', 'auth0-spa-js', 'dist', 'auth0-spa-js.production.js'));
const AUTH0_JS = readFileSync(join(MODULES, 'auth0-js', 'dist', 'auth0.min.js'));
const AXE = readFileSync(join(MODULES, 'axe-core', 'axe.min.js'), 'utf8');
/** `UPDATE_SCREENSHOTS=1` writes the hosted page's screenshots into docs/images (else a temporary folder). */
const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS
  ? join(__dirname, '..', '..', 'docs', 'images')
  : join(tmpdir(), 'pwl-screens');

const EMAILED_CODE = / is: (\d{6})$/m;
const EMAILED_LINK = /^(https:\/\/\S+\/passwordless\/verify_redirect\?\S+)$/m;
const SMS_CODE = /^(\d{6}) is your verification code/;

/**
 * The application: auth0-spa-js at `/`, `/callback` and `/bye` (`window.makeClient(useRefreshTokens)` builds the
 * client as a user would), auth0.js at `/a0` and `/a0callback` (as in browser-auth0js.e2e-spec.ts).
 */
function spaPage(domain: string, clientId: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><script src="/spa.js"></script></head><body><script>
window.makeClient = (useRefreshTokens) => auth0.createAuth0Client({
  domain: ${JSON.stringify(domain)},
  clientId: ${JSON.stringify(clientId)},
  useRefreshTokens,
  authorizationParams: { redirect_uri: location.origin + '/callback', scope: 'openid email' },
});
</script></body></html>`;
}

function auth0jsPage(domain: string, clientId: string, script: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><script src="/auth0.min.js"></script></head><body><script>
const webAuth = new auth0.WebAuth({
  domain: ${JSON.stringify(domain)},
  clientID: ${JSON.stringify(clientId)},
  redirectUri: location.origin + '/a0callback',
  responseType: 'token id_token',
  scope: 'openid email',
});
window.call = (method, options) =>
  new Promise((resolve) => webAuth[method](options, (err, res) => resolve({ err: err || null, res: res || null })));
${script}
</script></body></html>`;
}

const A0_CALLBACK = `webAuth.parseHash((err, result) => { window.outcome = { err: err || null, result }; });`;

/**
 * The application's own server: another origin (port) of the same site as the service (`localhost`), like
 * app.acme.example beside login.acme.example. Chromium blocks third-party cookies, so the silent-auth iframe can send
 * the SSO cookie only to a same-site service (on Auth0 too, through a custom domain).
 */
async function startAppServer(
  domain: string,
  clientId: () => string,
  tls: SelfSignedCertificate,
): Promise<{ origin: string; server: Server }> {
  const server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const html = (body: string) => res.writeHead(200, { 'content-type': 'text/html' }).end(body);
    if (path === '/spa.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(SPA_JS);
    else if (path === '/auth0.min.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(AUTH0_JS);
    else if (['/', '/callback', '/bye'].includes(path)) html(spaPage(domain, clientId()));
    else if (path === '/a0') html(auth0jsPage(domain, clientId(), ''));
    else if (path === '/a0callback') html(auth0jsPage(domain, clientId(), A0_CALLBACK));
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `https://localhost:${(server.address() as AddressInfo).port}`, server };
}

/** A call that navigates away: its page.evaluate fails when the page goes, which is expected. */
const navigating = (call: Promise<unknown>): void => void call.catch(() => undefined);

type SpaResult = { user?: Record<string, unknown>; token?: string; error?: string; description?: string };

describe('Hosted login at /authorize with auth0-spa-js and auth0.js (unmodified builds) in Chromium', () => {
  let tls: SelfSignedCertificate;
  let sink: SmtpSink;
  let gateway: FakeSmsGateway;
  let t: TestApp;
  let worker: TestWorker;
  let browser: Browser;
  let spa: TestClient;
  let app: { origin: string; server: Server };
  let serviceOrigin: string;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    tls = selfSignedCertificate();
    sink = await SmtpSink.start();
    gateway = await FakeSmsGateway.start();
    const port = await freePort();
    const domain = `localhost:${port}`;
    serviceOrigin = `https://${domain}`;
    const env = {
      ISSUER_BASE_URL: `https://${domain}/`,
      REDIS_PREFIX: filePrefix('browser-authorize'),
      WORKER_QUEUES: 'email,sms',
      EMAIL_PROVIDER: 'smtp',
      SMTP_URL: sink.url,
      SMS_PROVIDER: 'http',
      SMS_GATEWAY_URL: gateway.url,
      SMS_GATEWAY_JWT_SECRET: Buffer.from('gateway-shared-secret-0123456789').toString('base64'),
      SMS_GATEWAY_JWT_SECRET_BASE64: 'true',
      SMS_GATEWAY_JWT_SUBJECT: 'passwordless',
      SMS_GATEWAY_JWT_AUDIENCE: 'urn:sms-gateway',
    };
    [t, worker, app, browser] = await Promise.all([
      startTestApp({ port, env, tls: { key: tls.key, cert: tls.cert } }),
      startTestWorker(env),
      startAppServer(domain, () => spa.clientId, tls),
      launchBrowser(),
    ]);
    spa = await createClient(t.dataSource, {
      authMethod: 'none',
      appType: 'spa',
      connections: ['email', 'sms'],
      grantTypes: [PASSWORDLESS_OTP_GRANT, 'authorization_code', 'implicit', 'refresh_token'],
      webOrigins: [app.origin],
      callbacks: [`${app.origin}/callback`, `${app.origin}/a0callback`],
      allowedLogoutUrls: [`${app.origin}/bye`],
    });
  }, 60_000);

  afterAll(async () => {
    await Promise.all(contexts.map((c) => c.close()));
    await browser?.close();
    app?.server.close();
    await worker?.close();
    await t?.close();
    await gateway?.close();
    await sink?.close();
    tls?.remove();
  });

  const newContext = async (options: { bypassCSP?: boolean; locale?: string } = {}) => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true, ...options });
    contexts.push(context);
    return context;
  };

  /** Runs `body` against the page's auth0-spa-js client; SDK errors come back as `{error, description}`. */
  const withSpa = (page: Page, useRefreshTokens: boolean, body: string): Promise<SpaResult> =>
    page.evaluate(
      async ([refresh, code]) => {
        const w = globalThis as unknown as { makeClient: (r: boolean) => Promise<unknown> };
        const client = await w.makeClient(refresh);
        try {
          // The test's script, run in the page as the application's own code would be.
          // eslint-disable-next-line @typescript-eslint/no-implied-eval
          const run = new Function('client', `return (async () => { ${code} })();`) as (
            c: unknown,
          ) => Promise<SpaResult>;
          return await run(client);
        } catch (err) {
          const e = err as { error?: string; error_description?: string; message?: string };
          return { error: e.error ?? e.message, description: e.error_description };
        }
      },
      [useRefreshTokens, body] as const,
    );

  /** loginWithRedirect from the application, up to the hosted page's step 1. */
  const startLogin = async (page: Page, useRefreshTokens: boolean, connection: string) => {
    await page.goto(`${app.origin}/`);
    navigating(
      withSpa(
        page,
        useRefreshTokens,
        `await client.loginWithRedirect({ authorizationParams: { connection: '${connection}' } });`,
      ),
    );
    await page.waitForURL(`${serviceOrigin}/authorize?**`);
  };

  const emailCode = async (email: string, count = 1) => {
    const mails = await sink.waitFor(email, count);
    return EMAILED_CODE.exec(mails[count - 1].text!)![1];
  };

  /** Step 1 with an email, step 2 with the code from the SMTP sink; ends at the application's callback. */
  const hostedEmailLogin = async (page: Page, email: string) => {
    await page.getByLabel('Email address').fill(email);
    await page.getByRole('button', { name: 'Continue' }).first().click();
    await page.waitForURL(`${serviceOrigin}/authorize/challenge?**`);
    await page.getByLabel('Enter the code').fill(await emailCode(email));
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(`${app.origin}/callback?**`);
  };

  it('(a) loginWithRedirect, email code, handleRedirectCallback, getUser, a refreshed token, logout', async () => {
    const page = await (await newContext()).newPage();
    const tokenCalls: string[] = [];
    page.on('request', (r) => {
      if (r.url() === `${serviceOrigin}/oauth/token`) tokenCalls.push(r.postData() ?? '');
    });
    await startLogin(page, true, 'email');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Log in');
    expect(await page.textContent('main')).toContain(`Test ${spa.clientId.slice(0, 6)}`);
    const email = uniqueEmail();
    await hostedEmailLogin(page, email);

    const result = await withSpa(
      page,
      true,
      `await client.handleRedirectCallback();
       const user = await client.getUser();
       const first = await client.getTokenSilently();
       const token = await client.getTokenSilently({ cacheMode: 'off' });
       return { user, token, first };`,
    );
    expect(result.error).toBeUndefined();
    expect(result.user).toMatchObject({ email, email_verified: true });
    expect(result.token).toEqual(expect.any(String));
    // The second token came from the refresh-token grant, not the cache.
    expect(tokenCalls.map((body) => /grant_type=([a-z_]+)/.exec(body)?.[1])).toEqual([
      'authorization_code',
      'refresh_token',
    ]);

    navigating(withSpa(page, true, `await client.logout({ logoutParams: { returnTo: location.origin + '/bye' } });`));
    await page.waitForURL(`${app.origin}/bye`);
    const cookies = await page.context().cookies(serviceOrigin);
    expect(cookies.find((c) => c.name === 'pwl_session')).toBeUndefined();
  }, 60_000);

  it('(b) without refresh tokens: getTokenSilently through the iframe and web_message; after logout, login_required', async () => {
    const page = await (await newContext()).newPage();
    const silent: string[] = [];
    page.on('request', (r) => {
      if (r.url().startsWith(`${serviceOrigin}/authorize?`) && r.url().includes('prompt=none')) silent.push(r.url());
    });
    await startLogin(page, false, 'email');
    const email = uniqueEmail();
    await hostedEmailLogin(page, email);
    const result = await withSpa(
      page,
      false,
      `await client.handleRedirectCallback();
       const token = await client.getTokenSilently({ cacheMode: 'off' });
       return { token, user: await client.getUser() };`,
    );
    expect(result.error).toBeUndefined();
    expect(result.user).toMatchObject({ email });
    expect(silent).toHaveLength(1);
    expect(new URL(silent[0]).searchParams.get('response_mode')).toBe('web_message');

    navigating(withSpa(page, false, `await client.logout({ logoutParams: { returnTo: location.origin + '/bye' } });`));
    await page.waitForURL(`${app.origin}/bye`);
    const after = await withSpa(page, false, `return { token: await client.getTokenSilently({ cacheMode: 'off' }) };`);
    expect(after).toEqual({ error: 'login_required', description: 'Login required' });
  }, 60_000);

  it('(c) SMS code on the hosted page', async () => {
    const page = await (await newContext()).newPage();
    await startLogin(page, true, 'sms');
    const phone = uniquePhone();
    await page.getByLabel('Phone number').fill(phone);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(`${serviceOrigin}/authorize/challenge?**`);
    await waitFor(() => Promise.resolve(gateway.sentTo(phone).length > 0), 10_000, 20);
    await page.getByLabel('Enter the code').fill(SMS_CODE.exec(gateway.sentTo(phone)[0].body.body)![1]);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(`${app.origin}/callback?**`);
    const result = await withSpa(
      page,
      true,
      `await client.handleRedirectCallback(); return { user: await client.getUser() };`,
    );
    expect(result.user).toMatchObject({ phone_number: phone, phone_verified: true });
  }, 60_000);

  it('(c) magic link instead of a code, opened in the same browser', async () => {
    const page = await (await newContext()).newPage();
    await startLogin(page, true, 'email');
    const email = uniqueEmail();
    await page.getByLabel('Email address').fill(email);
    await page.getByRole('button', { name: 'Email me a link instead' }).click();
    await expect(page.getByRole('heading', { name: 'Check your email' }).isVisible()).resolves.toBe(true);
    const [mail] = await sink.waitFor(email);
    await page.goto(EMAILED_LINK.exec(mail.text!)![1]);
    await page.waitForURL(`${app.origin}/callback?**`);
    const result = await withSpa(
      page,
      true,
      `await client.handleRedirectCallback(); return { user: await client.getUser() };`,
    );
    expect(result.user).toMatchObject({ email, email_verified: true });
  }, 60_000);

  it('(c) auth0.js passwordlessLogin from an allowed origin: /co/authenticate, then /authorize?login_ticket', async () => {
    const page = await (await newContext()).newPage();
    await page.goto(`${app.origin}/a0`);
    const email = uniqueEmail();
    const call = (method: string, options: object) =>
      page.evaluate(
        ([m, o]) => (globalThis as unknown as { call: (m: string, o: object) => Promise<unknown> }).call(m, o),
        [method, options] as const,
      );
    expect(await call('passwordlessStart', { connection: 'email', send: 'code', email })).toMatchObject({ err: null });
    const verificationCode = await emailCode(email);
    navigating(call('passwordlessLogin', { connection: 'email', email, verificationCode }));
    await page.waitForURL(`${app.origin}/a0callback#**`);
    const outcome = (await (
      await page.waitForFunction(() => (globalThis as unknown as { outcome?: unknown }).outcome)
    ).jsonValue()) as { err: unknown; result: { idTokenPayload: Record<string, unknown> } };
    expect(outcome.err).toBeNull();
    expect(outcome.result.idTokenPayload).toMatchObject({ email, aud: spa.clientId, sid: expect.any(String) });
  }, 60_000);

  it('(d) a code typed in a second browser does not complete the first one’s request', async () => {
    const first = await (await newContext()).newPage();
    await startLogin(first, true, 'email');
    const email = uniqueEmail();
    await first.getByLabel('Email address').fill(email);
    await first.getByRole('button', { name: 'Continue' }).first().click();
    await first.waitForURL(`${serviceOrigin}/authorize/challenge?**`);
    const code = await emailCode(email);

    const second = await (await newContext()).newPage();
    // The first browser's step 2 URL, opened elsewhere: no transaction cookie, no form.
    const res = await second.goto(first.url());
    expect(res?.status()).toBe(400);
    expect(await second.textContent('main')).toContain('started in another browser');
    // The second browser's own request, for another address, with the first one's code.
    await startLogin(second, true, 'email');
    await second.getByLabel('Email address').fill(uniqueEmail());
    await second.getByRole('button', { name: 'Continue' }).first().click();
    await second.waitForURL(`${serviceOrigin}/authorize/challenge?**`);
    await second.getByLabel('Enter the code').fill(code);
    await second.getByRole('button', { name: 'Continue' }).click();
    await expect(second.getByRole('alert').textContent()).resolves.toContain('Wrong email or verification code.');

    await first.getByLabel('Enter the code').fill(code);
    await first.getByRole('button', { name: 'Continue' }).click();
    await first.waitForURL(`${app.origin}/callback?**`);
  }, 60_000);

  it('(f, g) both steps pass axe-core without serious violations, in English and French, with screenshots', async () => {
    // bypassCSP: the test injects axe-core, which the page's CSP would refuse.
    for (const locale of ['en', 'fr']) {
      const page = await (await newContext({ bypassCSP: true, locale })).newPage();
      await page.setViewportSize({ width: 640, height: 720 });
      await startLogin(page, true, 'email');
      expect(await page.getAttribute('html', 'lang')).toBe(locale);
      await checkAccessibility(page);
      await page.screenshot({ path: join(SCREENSHOTS, `login-step1-${locale}.png`) });
      await page.locator('input[type=email]').fill(uniqueEmail());
      await page.locator('button[value=code]').click();
      await page.waitForURL(`${serviceOrigin}/authorize/challenge?**`);
      const code = page.locator('input[name=code]');
      expect(await code.getAttribute('autocomplete')).toBe('one-time-code');
      expect(await code.getAttribute('inputmode')).toBe('numeric');
      await checkAccessibility(page);
      await page.screenshot({ path: join(SCREENSHOTS, `login-step2-${locale}.png`) });
    }
  }, 60_000);
});

async function checkAccessibility(page: Page): Promise<void> {
  await page.addScriptTag({ content: AXE });
  const violations = await page.evaluate(async () => {
    const axe = (
      globalThis as unknown as { axe: { run: () => Promise<{ violations: Array<{ id: string; impact: string }> }> } }
    ).axe;
    return (await axe.run()).violations.map((v) => ({ id: v.id, impact: v.impact }));
  });
  expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);
}
