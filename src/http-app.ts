import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fastifyCors from '@fastify/cors';
import helmet from 'helmet';
import { AppModule } from './app.module';
import { DEPENDENCY_RETRY_AFTER_SECONDS } from './common/api-error';
import { httpErrors } from './common/auth0-errors';
import { sendApiError } from './common/http-error.filter';
import { refuseNulInUrls, registerBodyParsers } from './common/body-parsers';
import { AppConfig } from './config/app-config';
import { nestLogger } from './observability/logging';
import { observeHttp, requestIdFor } from './observability/http-observability';
import type { TrustProxy } from './config/sections/http.config';
import { CORS_OPTIONS, CorsPolicy } from './cors/cors-policy';

/** `tls` serves HTTPS directly (tests that must look like a real Auth0 tenant); production terminates TLS in front. */
export function createFastifyAdapter(config: AppConfig, tls?: { key: string; cert: string }): FastifyAdapter {
  // skipMiddie: the app has no Nest middleware, so @fastify/middie's per-request hook is not installed
  // (docs/decisions/020-no-middleware-hook.md). Adding Nest middleware requires removing this option (Nest then
  // fails at init without middie).
  const options = {
    // Answered in Auth0's shape instead (answerUnavailableWhileClosing).
    return503OnClosing: false,
    bodyLimit: config.http.bodyLimit,
    trustProxy: fastifyTrustProxy(config.http.trustProxy),
    // Slow senders (slowloris, a body trickled byte by byte) are cut off: whole request, idle socket, keep-alive.
    requestTimeout: config.http.requestTimeoutMs,
    connectionTimeout: config.http.connectionTimeoutMs,
    keepAliveTimeout: config.http.keepAliveTimeoutMs,
    // Node checks the request timeout every `connectionsCheckingInterval` (30 s by default): check often enough that
    // the timeout is kept to within a quarter of itself; headersTimeout may not exceed requestTimeout.
    http: {
      requestTimeout: config.http.requestTimeoutMs,
      headersTimeout: config.http.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.floor(config.http.requestTimeoutMs / 4))),
    },
    logger: false,
    // x-request-id: the caller's when valid, else a UUID; echoed and logged (observeHttp).
    genReqId: requestIdFor,
    skipMiddie: true,
  };
  return new FastifyAdapter(tls ? { ...options, https: tls } : options);
}

/** A hop count as the function Fastify builds from a number (its types only name the other forms). */
function fastifyTrustProxy(trust: TrustProxy): boolean | string[] | ((address: string, hop: number) => boolean) {
  return typeof trust === 'number' ? (_address, hop) => hop < trust : trust;
}

/** Options for NestFactory.create / TestingModule.createNestApplication: our own body parsers replace Nest's. */
export function nestAppOptions(config: AppConfig) {
  return { bodyParser: false, logger: nestLogger(config, 'api') };
}

/** Fastify-level setup shared by main.ts and the e2e tests, then init. */
export async function configureHttpApp(app: NestFastifyApplication): Promise<NestFastifyApplication> {
  const fastify = app.getHttpAdapter().getInstance();
  observeHttp(fastify, app.get(AppConfig));
  // Fastify's own errors (bad JSON, body too large, wrong content type) reach Nest's handler and so HttpErrorFilter.
  await registerBodyParsers(fastify);
  refuseNulInUrls(fastify);
  answerUnavailableWhileClosing(fastify);
  secureHeaders(fastify);
  fastify.addHook('onSend', noStoreUnlessCacheable);
  // Per-client origin check first (it reads the client_id from the parsed body), then @fastify/cors (see CorsPolicy).
  const cors = app.get(CorsPolicy);
  fastify.addHook('onRoute', cors.onRoute);
  fastify.addHook('preHandler', cors.gate);
  void fastify.register(fastifyCors, CORS_OPTIONS);
  app.enableShutdownHooks();
  await app.init();
  return app;
}

export async function createHttpApp(config: AppConfig): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule,
    createFastifyAdapter(config),
    nestAppOptions(config),
  );
  return configureHttpApp(app);
}

/**
 * Helmet's headers on every answer (nosniff, frame and referrer policies, HSTS behind TLS, ...). The default CSP suits
 * JSON: it forbids everything; the HTML pages (magic link, logout) replace it with their own, nonce-based one.
 * Cross-Origin-Resource-Policy is `cross-origin`: browser apps of other origins call the token endpoint (CORS).
 */
const HELMET_OPTIONS = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: { defaultSrc: ["'none'"], baseUri: ["'none'"], frameAncestors: ["'none'"], formAction: ["'none'"] },
  },
  crossOriginResourcePolicy: { policy: 'cross-origin' as const },
  referrerPolicy: { policy: 'no-referrer' as const },
  frameguard: { action: 'deny' as const },
};

/**
 * Helmet's middleware, built once: @fastify/helmet builds it again for every request (its CSP directives parsed each
 * time), which was a visible share of a start's CPU (docs/decisions/042-helmet-built-once-and-an-unredacted-access-line.md).
 */
function secureHeaders(fastify: FastifyInstance): void {
  const middleware = helmet(HELMET_OPTIONS);
  fastify.addHook('onRequest', (request, reply, done) =>
    middleware(request.raw, reply.raw, (err) => done(err as Error | undefined)),
  );
}

/**
 * Answers carry tokens, codes and personal data: none may be cached (RFC 6749 §5.1 for the token endpoint, also on
 * its errors), except what a route marks cacheable itself (discovery, JWKS).
 */
function noStoreUnlessCacheable(
  _request: FastifyRequest,
  reply: FastifyReply,
  payload: unknown,
  done: (err: null, payload: unknown) => void,
): void {
  if (!reply.hasHeader('cache-control')) void reply.header('cache-control', 'no-store');
  if (reply.getHeader('cache-control') === 'no-store') void reply.header('pragma', 'no-cache');
  done(null, payload);
}

/**
 * Once shutdown began, requests that still arrive on open keep-alive connections get Auth0's 503 body with
 * Retry-After and `Connection: close`, so that clients retry on another replica.
 */
function answerUnavailableWhileClosing(fastify: FastifyInstance): void {
  let closing = false;
  fastify.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  fastify.addHook('onRequest', (_request, reply, done) => {
    if (!closing) return done();
    const error = httpErrors.temporarilyUnavailable('shutting down', DEPENDENCY_RETRY_AFTER_SECONDS);
    void reply.header('connection', 'close');
    sendApiError(reply, error);
  });
}
