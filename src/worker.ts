import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { exitWithinGrace, startupFailure } from './common/process-lifecycle';
import { loadConfig } from './config/app-config';
import { WorkerModule } from './delivery/worker/worker.module';
import { loggerLevels } from './common/logger-levels';

/** Worker process: no HTTP API, consumes the queues in WORKER_QUEUES; SIGTERM lets in-flight jobs finish. */
async function bootstrap(): Promise<void> {
  const config = loadConfig();
  const logger = new Logger('Worker');
  const printing = config.worker.queues.filter(
    (q) => (q === 'email' ? config.email.provider : config.sms.provider) === 'log',
  );
  if (config.env === 'production' && printing.length > 0) {
    logger.warn(
      `The log provider is set for ${printing.join(', ')} in production: messages (with their codes) go to the log, not to users.`,
    );
  }
  const app = await NestFactory.createApplicationContext(WorkerModule.register(config), {
    logger: loggerLevels(config.logLevel),
  });
  exitWithinGrace(config.shutdownGraceMs, 'Worker');
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  await app.init();
  logger.log(`Worker started for queues: ${config.worker.queues.join(', ')}`);
}

bootstrap().catch((err: unknown) => {
  console.error(startupFailure('the worker', err));
  process.exit(1);
});
