import type { AppConfig } from '../config/app-config';

/** Nest logger levels up to LOG_LEVEL. Its own module so that entry points without HTTP do not load the API. */
export function loggerLevels(level: AppConfig['logLevel']): Array<'error' | 'warn' | 'log' | 'debug' | 'verbose'> {
  const order = ['error', 'warn', 'log', 'debug', 'verbose'] as const;
  return order.slice(0, order.indexOf(level) + 1);
}
