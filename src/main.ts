import './observability/tracing-preload';
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { exitWithinGrace, startupFailure } from './common/process-lifecycle';
import { loadConfig } from './config/app-config';
import { nestLogger } from './observability/logging';
import { startMetricsServer } from './observability/metrics';
import { createHttpApp } from './http-app';

async function bootstrap(): Promise<void> {
  const config = loadConfig();
  Logger.overrideLogger(nestLogger(config, 'api'));
  const logger = new Logger('Api');
  if (config.secrets.usingDevelopmentDefaults) {
    logger.warn('Using DEVELOPMENT secrets for code hashing/encryption. Set CODE_HASH_SECRET and CODE_ENCRYPTION_KEY.');
  }
  if (config.metrics) await startMetricsServer(config.metrics.port, config.metrics.host);
  exitWithinGrace(config.shutdownGraceMs, 'Api');
  const app = await createHttpApp(config);
  await app.listen(config.http.port, config.http.host);
  logger.log(`Listening on ${config.http.host}:${config.http.port} (issuer ${config.issuerBaseUrl})`);
}

bootstrap().catch((err: unknown) => {
  console.error(startupFailure('the API', err));
  process.exit(1);
});
