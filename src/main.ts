import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { ConfigError, loadConfig } from './config/app-config';
import { createHttpApp } from './http-app';

async function bootstrap(): Promise<void> {
  const config = loadConfig();
  const logger = new Logger('Api');
  if (config.secrets.usingDevelopmentDefaults) {
    logger.warn('Using DEVELOPMENT secrets for code hashing/encryption. Set CODE_HASH_SECRET and CODE_ENCRYPTION_KEY.');
  }
  const app = await createHttpApp(config);
  await app.listen(config.http.port, config.http.host);
  logger.log(`Listening on ${config.http.host}:${config.http.port} (issuer ${config.issuerBaseUrl})`);
}

bootstrap().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : `Failed to start: ${(err as Error).message}`);
  process.exit(1);
});
