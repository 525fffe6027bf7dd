import { randomBytes } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test, type TestingModule } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import { AppModule } from '../../src/app.module';
import { AppConfig, loadConfig } from '../../src/config/app-config';
import { RelayProcessModule } from '../../src/delivery/relay-process.module';
import { configureHttpApp, createFastifyAdapter, nestAppOptions } from '../../src/http-app';

export interface TestApp {
  app: NestFastifyApplication;
  config: AppConfig;
  dataSource: DataSource;
  /** `http://127.0.0.1:<port>`: tests go through real HTTP. */
  baseUrl: string;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<TestResponse>;
  /** POSTs `application/x-www-form-urlencoded`, as the Auth0 Node SDK and browsers do. */
  postForm(path: string, fields: Record<string, string>, headers?: Record<string, string>): Promise<TestResponse>;
  get(path: string, headers?: Record<string, string>): Promise<TestResponse>;
  /** The in-process relay role, unless started with `relay: false`. */
  relay?: TestingModule;
  close(): Promise<void>;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
  text: string;
}

export interface TestAppOptions {
  env?: Record<string, string>;
  /** Replace providers (e.g. the Clock) with test doubles. */
  overrides?: Array<{ provide: unknown; useValue: unknown }>;
  /** Listen on this port instead of an ephemeral one (when ISSUER_BASE_URL must name it). */
  port?: number;
  /** Serve HTTPS with this key and certificate. */
  tls?: { key: string; cert: string };
  /** Also run the relay role in-process, as a deployment runs `npm run start:relay` beside the API (default true). */
  relay?: boolean;
}

/**
 * A Redis prefix of this run that no other app shares, for tests whose counters must not see other tests' traffic
 * (global teardown removes it with the run's prefix).
 */
export const isolatedRedisPrefix = () => `${process.env.REDIS_PREFIX}-${randomBytes(4).toString('hex')}`;

/** Boots the real API module against this run's Postgres and Redis and listens on an ephemeral loopback port. */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const config = loadConfig({ ...process.env, ...options.env });
  let builder = Test.createTestingModule({ imports: [AppModule] })
    .overrideProvider(AppConfig)
    .useValue(config);
  for (const override of options.overrides ?? [])
    builder = builder.overrideProvider(override.provide).useValue(override.useValue);
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(
    createFastifyAdapter(config, options.tls),
    nestAppOptions(config),
  );
  try {
    await configureHttpApp(app);
    await app.listen(options.port ?? 0, '127.0.0.1');
  } catch (err) {
    await app.close().catch(() => undefined); // a failed boot must not leave pools open and hang Jest
    throw err;
  }
  const relay = options.relay === false ? undefined : await startTestRelay(config);
  const address = app.getHttpServer().address() as { port: number };
  const baseUrl = `${options.tls ? 'https' : 'http'}://127.0.0.1:${address.port}`;
  return {
    app,
    config,
    dataSource: app.get(DataSource),
    baseUrl,
    post: (path, body, headers) => postJson(`${baseUrl}${path}`, body, headers),
    postForm: (path, fields, headers) =>
      request(`${baseUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams(fields).toString(),
      }),
    get: (path, headers) => request(`${baseUrl}${path}`, { headers }),
    relay,
    close: async () => {
      await relay?.close();
      await app.close();
    },
  };
}

/** The relay role in-process (`src/relay.ts` runs the same module), with an ephemeral probe port. */
export async function startTestRelay(config: AppConfig): Promise<TestingModule> {
  const relayConfig = { ...config, migrationsRun: false, relay: { healthPort: 0 }, databasePoolSize: 2 };
  const moduleRef = await Test.createTestingModule({ imports: [RelayProcessModule] })
    .overrideProvider(AppConfig)
    .useValue(relayConfig)
    .compile();
  await moduleRef.init();
  return moduleRef;
}

/** POSTs JSON (or a raw string body with the given content type) and parses the JSON answer. */
export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<TestResponse> {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  return request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: raw });
}

/** Any request, redirects not followed (tests assert on Location); the body is parsed as JSON when it is JSON. */
async function request(url: string, init: RequestInit): Promise<TestResponse> {
  const response = await fetch(url, { ...init, redirect: 'manual' });
  const text = await response.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = {};
  }
  return { status: response.status, headers: response.headers, body: parsed, text };
}
