import './observability/tracing-preload';
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { exitWithinGrace, startupFailure } from './common/process-lifecycle';
import { loadConfig } from './config/app-config';
import { nestLogger } from './observability/logging';
import { startMetricsServer } from './observability/metrics';
import { WorkerModule } from './delivery/worker/worker.module';

/** Worker process: no HTTP API, consumes the queues in WORKER_QUEUES; SIGTERM lets in-flight jobs finish. */
async function bootstrap(): Promise<void> {
  const config = loadConfig();
  Logger.overrideLogger(nestLogger(config, 'worker'));
  const logger = new Logger('Worker');
  const printing = config.worker.queues.filter(
    (q) => (q === 'email' ? config.email.provider : config.sms.provider) === 'log',
  );
  if (config.env === 'production' && printing.length > 0) {
    logger.warn(
      `The log provider is set for ${printing.join(', ')} in production: messages (with their codes) go to the log, not to users.`,
    );
  }
  if (config.metrics) await startMetricsServer(config.metrics.port, config.metrics.host);
  const app = await NestFactory.createApplicationContext(WorkerModule.register(config), {
    logger: nestLogger(config, 'worker'),
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
