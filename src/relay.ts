import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConfigError, loadConfig } from './config/app-config';
import { loggerLevels } from './common/logger-levels';
import { RelayProcessModule } from './delivery/relay-process.module';

/** Relay process: moves committed outbox rows to the delivery queues and reconciles lost deliveries. */
async function bootstrap(): Promise<void> {
  const config = loadConfig();
  const app = await NestFactory.createApplicationContext(RelayProcessModule, { logger: loggerLevels(config.logLevel) });
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  await app.init();
  new Logger('Relay').log('Outbox relay started');
}

bootstrap().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : `Failed to start relay: ${(err as Error).message}`);
  process.exit(1);
});
