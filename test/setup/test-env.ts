import { randomBytes } from 'node:crypto';

/** Where the per-run database is created; override to use another server. */
export const ADMIN_DATABASE_URL = process.env.TEST_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Each `npm test` run gets its own database and Redis key prefix, so concurrent runs cannot collide. */
export function newRunEnvironment(): Record<string, string> {
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const database = new URL(ADMIN_DATABASE_URL);
  database.pathname = `/pwl_test_${runId}`;
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'error',
    DATABASE_URL: database.toString(),
    REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_PREFIX: `pwltest-${runId}`,
    ISSUER_BASE_URL: 'https://tenant.example.com/',
    CODE_HASH_SECRET: randomBytes(32).toString('hex'),
    CODE_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    // Limits out of the way; the rate-limit tests start their own apps with small ones.
    RATE_LIMIT_START_PER_IP: '100000',
    RATE_LIMIT_START_PER_IDENTIFIER: '100000',
    RATE_LIMIT_START_IDENTIFIER_COOLDOWN_MS: '0',
    RATE_LIMIT_START_PER_CLIENT: '100000',
    RATE_LIMIT_OTP_FAILURES_PER_IP: '100000',
    RATE_LIMIT_OTP_FAILURES_PER_IDENTIFIER: '100000',
    RATE_LIMIT_OTP_FAILURES_PER_IDENTIFIER_IP: '100000',
    RATE_LIMIT_OTP_BACKOFF_AFTER: '0',
    SMS_ALLOWED_CALLING_CODES: '*',
    SMS_COUNTRY_BUDGET_PER_HOUR: '100000',
    SMS_PREFIX_BUDGET_PER_HOUR: '100000',
    SMS_BREAKER_MIN_SENDS: '100000',
    // Most files run no worker, so their messages wait for ever: no shedding unless a test asks for it.
    DELIVERY_SHED_BACKLOG_AGE_MS: '0',
    DATABASE_POOL_SIZE: '4',
  };
}
