import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { PASSWORDLESS_OTP_GRANT } from '../../src/clients/client.entity';
import { launchChromium, type Chromium } from '../utils/chromium';
import { createClient, uniqueEmail, type TestClient } from '../utils/factories';
import { verificationCount } from '../utils/passwordless-flow';
import { freePort } from '../utils/redis-process';
import { SmtpSink } from '../utils/smtp-sink';
import { startTestApp, type TestApp } from '../utils/test-app';
import { filePrefix, startTestWorker, type TestWorker } from '../utils/test-worker';
import { selfSignedCertificate, type SelfSignedCertificate } from '../utils/tls';

/** The default email template's code line. */
const EMAILED_CODE = / is: (\d{6})$/m;
const AUTH0_JS = readFileSync(join(__dirname, '..', '..', 'node_modules', 'auth0-js', 'dist', 'auth0.min.js'));

/**
 * A single-page app as a user would write it: the unmodified auth0.js build, `new auth0.WebAuth(...)` and its
 * passwordless calls. `/` exposes `call(method, options)`; `/callback` runs parseHash (which checks the id_token
 * against the service's JWKS) and then userInfo, and leaves the outcome in `window.outcome`.
 */
function appPage(domain: string, clientId: string, script: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><script src="/auth0.min.js"></script></head><body><script>
const webAuth = new auth0.WebAuth({
  domain: ${JSON.stringify(domain)},
  clientID: ${JSON.stringify(clientId)},
  redirectUri: location.origin + '/callback',
  responseType: 'token id_token',
  scope: 'openid email',
});
${script}
</script></body></html>`;
}

const INDEX_SCRIPT = `
window.call = (method, options) =>
  new Promise((resolve) => webAuth[method](options, (err, res) => resolve({ err: err || null, res: res || null })));`;

const CALLBACK_SCRIPT = `
webAuth.parseHash((err, result) => {
  if (err) return (window.outcome = { err });
  webAuth.client.userInfo(result.accessToken, (userinfoErr, user) => {
    window.outcome = { err: userinfoErr || null, result, user };
  });
});`;

/** Serves the app's pages on a loopback port of its own: another origin than the service. */
async function startAppServer(domain: string, clientId: () => string): Promise<{ origin: string; server: Server }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/auth0.min.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(AUTH0_JS);
    } else if (path === '/' || path === '/callback') {
      const script = path === '/' ? INDEX_SCRIPT : CALLBACK_SCRIPT;
      res.writeHead(200, { 'content-type': 'text/html' }).end(appPage(domain, clientId(), script));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

type CallResult = { err: { code?: string; description?: string; statusCode?: number } | null; res: unknown };

describe('auth0.js (unmodified build) in Chromium against the service', () => {
  let tls: SelfSignedCertificate;
  let sink: SmtpSink;
  let t: TestApp;
  let worker: TestWorker;
  let browser: Chromium;
  let spa: TestClient;
  let app: { origin: string; server: Server };
  let stranger: { origin: string; server: Server };

  beforeAll(async () => {
    tls = selfSignedCertificate();
    sink = await SmtpSink.start();
    const port = await freePort();
    const domain = `localhost:${port}`;
    const env = {
      ISSUER_BASE_URL: `https://${domain}/`,
      REDIS_PREFIX: filePrefix('browser'),
      WORKER_QUEUES: 'email',
      EMAIL_PROVIDER: 'smtp',
      SMTP_URL: sink.url,
    };
    t = await startTestApp({ port, env, tls: { key: tls.key, cert: tls.cert } });
    worker = await startTestWorker(env);
    app = await startAppServer(domain, () => spa.clientId);
    stranger = await startAppServer(domain, () => spa.clientId);
    spa = await createClient(t.dataSource, {
      authMethod: 'none',
      appType: 'spa',
      connections: ['email'],
      grantTypes: [PASSWORDLESS_OTP_GRANT, 'authorization_code', 'implicit', 'refresh_token'],
      webOrigins: [app.origin],
      callbacks: [`${app.origin}/callback`],
    });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    app?.server.close();
    stranger?.server.close();
    await worker?.close();
    await t?.close();
    await sink?.close();
    tls?.remove();
  });

  /** webAuth.passwordlessStart in the page, for an email code. */
  const passwordlessStart = (page: Page, email: string) =>
    page.evaluate(
      (address) =>
        (globalThis as unknown as { call: (m: string, o: object) => Promise<CallResult> }).call('passwordlessStart', {
          connection: 'email',
          send: 'code',
          email: address,
        }),
      email,
    );

  const openApp = async (origin: string): Promise<Page> => {
    const page = await browser.context.newPage();
    await page.goto(`${origin}/`);
    return page;
  };

  it('should log in with passwordlessStart and passwordlessVerify from an allowed origin, tokens at the callback', async () => {
    const page = await openApp(app.origin);
    const email = uniqueEmail();
    const started = await passwordlessStart(page, email);
    expect(started.err).toBeNull();

    const [mail] = await sink.waitFor(email);
    const code = EMAILED_CODE.exec(mail.text!)![1];
    // passwordlessVerify POSTs /passwordless/verify, then navigates to /passwordless/verify_redirect, whose page
    // posts back and is redirected to the callback with the tokens in the fragment.
    await page.evaluate(
      ([address, verificationCode]) => {
        const w = globalThis as unknown as {
          call: (m: string, o: object) => Promise<CallResult>;
          verifyError?: unknown;
        };
        void w
          .call('passwordlessVerify', { connection: 'email', email: address, verificationCode })
          .then((r) => (w.verifyError = r.err));
      },
      [email, code],
    );
    await page.waitForURL(`${app.origin}/callback#**`, { timeout: 20_000 });
    const outcome = (await (
      await page.waitForFunction(() => (globalThis as unknown as { outcome?: unknown }).outcome)
    ).jsonValue()) as {
      err: unknown;
      result: { accessToken: string; idTokenPayload: Record<string, unknown>; expiresIn: number; tokenType: string };
      user: Record<string, unknown>;
    };
    expect(outcome.err).toBeNull();
    expect(outcome.result.accessToken).toEqual(expect.any(String));
    expect(outcome.result.tokenType).toBe('Bearer');
    expect(outcome.result.idTokenPayload).toMatchObject({ email, email_verified: true, aud: spa.clientId });
    expect(outcome.user).toMatchObject({ email, email_verified: true });
    await page.close();
  }, 60_000);

  it('should be blocked by the browser from an unregistered origin, and nothing is stored or sent', async () => {
    const page = await openApp(stranger.origin);
    // A response the page may not read is reported as a failed request (Chromium: net::ERR_FAILED, a CORS error).
    const blocked = page.waitForEvent('requestfailed', {
      predicate: (request) => request.url().endsWith('/passwordless/start') && request.method() === 'POST',
      timeout: 10_000,
    });
    const email = uniqueEmail();
    const started = await passwordlessStart(page, email);
    expect(started.err).not.toBeNull();
    expect(started.res).toBeNull();
    expect((await blocked).failure()?.errorText).toBe('net::ERR_FAILED');
    expect(await verificationCount(t, email)).toBe(0);
    expect(sink.mails(email)).toEqual([]);
    await page.close();
  }, 60_000);
});
