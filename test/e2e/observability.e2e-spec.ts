import { createClient, signAssertion, uniqueEmail, type TestClient } from '../utils/factories';
import { credentials, OTP_GRANT } from '../utils/passwordless-flow';
import { freePort, waitFor } from '../utils/redis-process';
import { SmtpSink } from '../utils/smtp-sink';
import { isolatedRedisPrefix, startTestApp, type TestApp } from '../utils/test-app';
import { spawnRole, type RoleChild } from '../utils/worker-process';

const CODE_IN_MAIL = / is: (\d{6})$/m;
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
type Line = Record<string, unknown>;

/**
 * The API, the relay and a worker as processes, logging at the default level: every line is JSON, a request's id is
 * on its access line and on the worker's delivery line, no secret reaches any line, and /metrics counts what happened.
 */
describe('Logs and metrics of a full login', () => {
  let sink: SmtpSink;
  let t: TestApp;
  let secretClient: TestClient;
  let jwtClient: TestClient;
  let roles: Record<'api' | 'relay' | 'worker', RoleChild>;
  let ports: Record<'api' | 'apiMetrics' | 'relay' | 'relayMetrics' | 'worker' | 'workerMetrics' | 'board', number>;
  const boardToken = 'b'.repeat(40);
  let api: string;

  beforeAll(async () => {
    sink = await SmtpSink.start();
    t = await startTestApp({ relay: false });
    secretClient = await createClient(t.dataSource);
    jwtClient = await createClient(t.dataSource, { authMethod: 'private_key_jwt' });
    const names = ['api', 'apiMetrics', 'relay', 'relayMetrics', 'worker', 'workerMetrics', 'board'] as const;
    ports = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await freePort()]))) as typeof ports;
    const env = {
      DATABASE_URL: process.env.DATABASE_URL!,
      REDIS_PREFIX: isolatedRedisPrefix(),
      MIGRATIONS_RUN: 'false',
      LOG_LEVEL: 'log',
      EMAIL_PROVIDER: 'smtp',
      SMTP_URL: sink.url,
      WORKER_QUEUES: 'email',
      RATE_LIMIT_START_PER_IDENTIFIER: '2',
    };
    roles = {
      api: spawnRole('main.ts', {
        ...env,
        HOST: '127.0.0.1',
        PORT: String(ports.api),
        METRICS_PORT: String(ports.apiMetrics),
      }),
      relay: spawnRole('relay.ts', {
        ...env,
        RELAY_HEALTH_PORT: String(ports.relay),
        METRICS_PORT: String(ports.relayMetrics),
      }),
      worker: spawnRole('worker.ts', {
        ...env,
        WORKER_HEALTH_PORT: String(ports.worker),
        METRICS_PORT: String(ports.workerMetrics),
        WORKER_ADMIN_PORT: String(ports.board),
        WORKER_ADMIN_TOKEN: boardToken,
      }),
    };
    api = `http://127.0.0.1:${ports.api}`;
    const up = async (port: number) => (await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined))?.ok;
    for (const port of [ports.api, ports.relay, ports.worker]) await waitFor(() => up(port).then(Boolean), 30_000, 100);
  });

  afterAll(async () => {
    for (const role of Object.values(roles ?? {})) if (role.running()) role.child.kill('SIGTERM');
    await Promise.all(Object.values(roles ?? {}).map((role) => role.exited));
    await t.close();
    await sink.close();
  });

  const post = async (path: string, body: Record<string, unknown>, headers: Record<string, string> = {}) => {
    const res = await fetch(`${api}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
  };
  const lines = (role: RoleChild): Line[] =>
    role
      .output()
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => {
        try {
          return JSON.parse(line) as Line;
        } catch {
          throw new Error(`not a JSON line: ${line}`);
        }
      });
  const scrape = async (port: number) => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();

  it('should carry the request id to the worker, mark Auth0 events, count them, and log no secret', async () => {
    const email = uniqueEmail();
    const started = await post(
      '/passwordless/start',
      { ...credentials(secretClient), connection: 'email', email, send: 'code' },
      { 'x-request-id': 'obs-start-1' },
    );
    expect(started.status).toBe(200);
    expect(started.headers.get('x-request-id')).toBe('obs-start-1');
    const [mail] = await sink.waitFor(email);
    const code = CODE_IN_MAIL.exec(mail.text!)![1];

    const grant = (otp: string) =>
      post('/oauth/token', {
        ...credentials(secretClient),
        grant_type: OTP_GRANT,
        realm: 'email',
        username: email,
        otp,
      });
    expect((await grant(code === '000000' ? '111111' : '000000')).status).toBe(403);
    const tokens = await grant(code);
    expect(tokens.status).toBe(200);

    const assertion = await signAssertion(jwtClient, 'https://tenant.example.com/');
    const jwtStart = await post('/passwordless/start', {
      client_id: jwtClient.clientId,
      client_assertion: assertion,
      client_assertion_type: JWT_BEARER,
      connection: 'email',
      email: uniqueEmail(),
      send: 'code',
    });
    expect(jwtStart.status).toBe(200);

    const limited = uniqueEmail();
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++)
      statuses.push(
        (await post('/passwordless/start', { ...credentials(secretClient), connection: 'email', email: limited }))
          .status,
      );
    expect(statuses).toEqual([200, 200, 429]);

    // The delivery line: the worker logs it once the send is recorded.
    await waitFor(() => Promise.resolve(lines(roles.worker).some((l) => l.reqId === 'obs-start-1')), 10_000, 50);
    // Access lines are written once the answer went out.
    await waitFor(() => Promise.resolve(lines(roles.api).some((l) => l.status === 429)), 5000, 50);
    const apiLines = lines(roles.api);
    expect(apiLines).toContainEqual(
      expect.objectContaining({
        reqId: 'obs-start-1',
        msg: 'request',
        method: 'POST',
        route: '/passwordless/start',
        status: 200,
        type: 'cls',
        client_id: secretClient.clientId,
        connection: 'email',
        durationMs: expect.any(Number),
        ip: '127.0.0.1',
      }),
    );
    expect(apiLines.filter((l) => l.reqId === 'obs-start-1' && l.msg === 'request')).toHaveLength(1);
    expect(lines(roles.worker)).toContainEqual(
      expect.objectContaining({ reqId: 'obs-start-1', role: 'worker', provider: 'smtp', queue: 'email' }),
    );
    const access = apiLines.filter((l) => l.msg === 'request');
    expect(access).toContainEqual(expect.objectContaining({ route: '/oauth/token', status: 403, type: 'fepotpft' }));
    expect(access).toContainEqual(expect.objectContaining({ route: '/oauth/token', status: 200, type: 's' }));
    expect(access).toContainEqual(
      expect.objectContaining({ status: 429, rule: 'start-identifier', type: 'limit_wc', reqId: expect.any(String) }),
    );

    const secrets = [
      code,
      secretClient.secret!,
      assertion,
      String(tokens.body.access_token),
      String(tokens.body.id_token),
    ];
    for (const role of Object.values(roles)) {
      lines(role); // every line is JSON
      for (const secret of secrets) expect(role.output()).not.toContain(secret);
    }

    expect(await scrape(ports.apiMetrics)).toMatch(/^pwl_rate_limit_refusals_total\{rule="start-identifier"\} 1$/m);
    expect(await scrape(ports.apiMetrics)).toMatch(
      /^pwl_passwordless_starts_total\{connection="email",send="code",outcome="ok"\} 2$/m,
    );
    expect(await scrape(ports.apiMetrics)).toMatch(/^pwl_tokens_issued_total\{grant_type="[^"]+otp"\} 1$/m);
    await waitFor(
      async () =>
        /^pwl_deliveries_total\{queue="email",provider="smtp",outcome="sent"\} [1-9]/m.test(
          await scrape(ports.workerMetrics),
        ),
      10_000,
      100,
    );
    expect(await scrape(ports.workerMetrics)).toMatch(
      /^pwl_delivery_start_to_sent_seconds_count\{queue="email"\} [1-9]/m,
    );
    expect(await scrape(ports.relayMetrics)).toMatch(/^pwl_queue_jobs\{queue="email",state="failed"\} 0$/m);
    expect(await scrape(ports.relayMetrics)).toMatch(/^pwl_outbox_backlog_rows\{queue="email"\} \d+$/m);
  });

  it('should serve Bull Board on the worker admin port only with the token', async () => {
    const board = `http://127.0.0.1:${ports.board}/queues`;
    expect((await fetch(board)).status).toBe(401);
    expect((await fetch(board, { headers: { authorization: `Bearer ${'x'.repeat(40)}` } })).status).toBe(401);
    const page = await fetch(board, { headers: { authorization: `Bearer ${boardToken}` } });
    expect(page.status).toBe(200);
    const basic = `Basic ${Buffer.from(`ops:${boardToken}`).toString('base64')}`;
    const api = await fetch(`${board}/api/queues`, { headers: { authorization: basic } });
    expect(api.status).toBe(200);
    expect(JSON.stringify(await api.json())).toContain('"name":"email"');
  });

  it('should mark a failed silent authentication (fsa) and a failed cross-origin authentication (fcoa)', async () => {
    const spa = await createClient(t.dataSource, {
      authMethod: 'none',
      appType: 'spa',
      grantTypes: [OTP_GRANT, 'authorization_code'],
      callbacks: ['http://127.0.0.1:4200/callback'],
      webOrigins: ['http://127.0.0.1:4200'],
    });
    const silent = new URLSearchParams({
      client_id: spa.clientId,
      redirect_uri: 'http://127.0.0.1:4200/callback',
      response_type: 'code',
      scope: 'openid',
      state: 'obs-state',
      prompt: 'none',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    });
    const answer = await fetch(`${api}/authorize?${silent.toString()}`, {
      redirect: 'manual',
      headers: { 'x-request-id': 'obs-silent-1' },
    });
    expect(answer.headers.get('location')).toContain('error=login_required');
    const crossOrigin = await post(
      '/co/authenticate',
      { client_id: spa.clientId, credential_type: OTP_GRANT, realm: 'email', username: uniqueEmail(), otp: '000000' },
      { origin: 'http://127.0.0.1:4200', 'x-request-id': 'obs-co-1' },
    );
    expect(crossOrigin.status).toBeGreaterThanOrEqual(400);

    const types = () => {
      const byId = new Map(lines(roles.api).map((line) => [line.reqId, line.type]));
      return [byId.get('obs-silent-1'), byId.get('obs-co-1')];
    };
    await waitFor(() => Promise.resolve(types().every(Boolean)), 5000, 50);
    expect(types()).toEqual(['fsa', 'fcoa']);
  });
});
