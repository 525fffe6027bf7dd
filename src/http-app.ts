import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import fastifyCors from '@fastify/cors';
import { AppModule } from './app.module';
import { DEPENDENCY_RETRY_AFTER_SECONDS } from './common/api-error';
import { httpErrors } from './common/auth0-errors';
import { sendApiError } from './common/http-error.filter';
import { refuseNulInUrls, registerBodyParsers } from './common/body-parsers';
import { loggerLevels } from './common/logger-levels';
import type { AppConfig } from './config/app-config';
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
    trustProxy: config.http.trustProxy,
    logger: false,
    skipMiddie: true,
  };
  return new FastifyAdapter(tls ? { ...options, https: tls } : options);
}

/** Options for NestFactory.create / TestingModule.createNestApplication: our own body parsers replace Nest's. */
export function nestAppOptions(config: AppConfig) {
  return { bodyParser: false, logger: loggerLevels(config.logLevel) };
}

/** Fastify-level setup shared by main.ts and the e2e tests, then init. */
export async function configureHttpApp(app: NestFastifyApplication): Promise<NestFastifyApplication> {
  const fastify = app.getHttpAdapter().getInstance();
  // Fastify's own errors (bad JSON, body too large, wrong content type) reach Nest's handler and so HttpErrorFilter.
  await registerBodyParsers(fastify);
  refuseNulInUrls(fastify);
  answerUnavailableWhileClosing(fastify);
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
