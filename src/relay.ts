import './observability/tracing-preload';
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { exitWithinGrace, startupFailure } from './common/process-lifecycle';
import { loadConfig } from './config/app-config';
import { nestLogger } from './observability/logging';
import { startMetricsServer } from './observability/metrics';
import { RelayProcessModule } from './delivery/relay-process.module';

/** Relay process: moves committed outbox rows to the delivery queues and reconciles lost deliveries. */
async function bootstrap(): Promise<void> {
  const config = loadConfig();
  Logger.overrideLogger(nestLogger(config, 'relay'));
  if (config.metrics) await startMetricsServer(config.metrics.port, config.metrics.host);
  const app = await NestFactory.createApplicationContext(RelayProcessModule, { logger: nestLogger(config, 'relay') });
  exitWithinGrace(config.shutdownGraceMs, 'Relay');
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  await app.init();
  new Logger('Relay').log('Outbox relay started');
}

bootstrap().catch((err: unknown) => {
  console.error(startupFailure('the relay', err));
  process.exit(1);
});
