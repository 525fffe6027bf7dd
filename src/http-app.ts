import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module';
import { refuseNulInUrls, registerBodyParsers } from './common/body-parsers';
import { loggerLevels } from './common/logger-levels';
import type { AppConfig } from './config/app-config';

/** `tls` serves HTTPS directly (tests that must look like a real Auth0 tenant); production terminates TLS in front. */
export function createFastifyAdapter(config: AppConfig, tls?: { key: string; cert: string }): FastifyAdapter {
  // skipMiddie: the app has no Nest middleware, so @fastify/middie's per-request hook is not installed
  // (docs/decisions/020-no-middleware-hook.md). Adding Nest middleware requires removing this option (Nest then
  // fails at init without middie).
  const options = {
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
  registerBodyParsers(fastify);
  refuseNulInUrls(fastify);
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
