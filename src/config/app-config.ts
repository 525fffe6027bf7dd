import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  MinLength,
  validateSync,
} from 'class-validator';

const DEV_CODE_HASH_SECRET = 'development-only-code-hash-secret-do-not-use-in-production';
/**
 * Where SMS may go unless a connection lists its own codes: North America and low-fraud-risk European and Pacific
 * markets. Premium-rate pumping targets other ranges first; widen the list deliberately (README "Abuse protection").
 */
const DEFAULT_SMS_CALLING_CODES = '1,31,32,33,34,39,41,43,44,45,46,47,49,61,64,81,351,353,358';
const DEV_ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64'); // development only, see README

const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
const toNumber = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^\d+(\.\d+)?$/.test(value) ? Number(value) : value;
const toBool = ({ value }: { value: unknown }) =>
  value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value;

/** Every environment variable the service reads. Validated once at boot; errors name keys, never values. */
export class EnvVars {
  @IsIn(['development', 'test', 'production']) NODE_ENV = 'development';
  @Transform(toInt) @IsInt() @Min(0) @Max(65535) PORT = 3000;
  @IsString() HOST = '0.0.0.0';
  @Matches(/^postgres(ql)?:\/\//) DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/passwordless';
  @Matches(/^rediss?:\/\//) REDIS_URL = 'redis://127.0.0.1:6379';
  @Matches(/^[A-Za-z0-9_-]{1,64}$/) REDIS_PREFIX = 'pwl';
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true }) ISSUER_BASE_URL =
    'http://localhost:3000/';
  @IsOptional() @IsString() @MinLength(32) CODE_HASH_SECRET?: string;
  @IsOptional() @Matches(/^[A-Za-z0-9+/]{43}=$/, { message: 'must be 32 bytes, base64' }) CODE_ENCRYPTION_KEY?: string;
  @Transform(toInt) @IsInt() @Min(1024) @Max(1048576) BODY_LIMIT_BYTES = 16384;
  @Transform(toBool) @IsBoolean() TRUST_PROXY = false;
  @Transform(toBool) @IsBoolean() MIGRATIONS_RUN = true;
  @Transform(toInt) @IsInt() @Min(50) OUTBOX_RELAY_INTERVAL_MS = 1000;
  @Transform(toInt) @IsInt() @Min(100) ENQUEUE_TIMEOUT_MS = 1000;
  @Transform(toInt) @IsInt() @Min(1) @Max(50) DELIVERY_MAX_ATTEMPTS = 5;
  @Transform(toInt) @IsInt() @Min(10) DELIVERY_BACKOFF_MS = 1000;
  @Transform(toInt) @IsInt() @Min(1) @Max(200) DATABASE_POOL_SIZE = 10;
  @Transform(toInt) @IsInt() @Min(0) @Max(300_000) LOOKUP_CACHE_TTL_MS = 5000;
  @Transform(toInt) @IsInt() @Min(1) RATE_LIMIT_START_PER_IP = 50;
  @Transform(toInt) @IsInt() @Min(1000) RATE_LIMIT_START_WINDOW_MS = 3_600_000;
  @Transform(toInt) @IsInt() @Min(1) RATE_LIMIT_START_PER_IDENTIFIER = 10;
  @Transform(toInt) @IsInt() @Min(0) RATE_LIMIT_START_IDENTIFIER_COOLDOWN_MS = 30_000;
  @Transform(toInt) @IsInt() @Min(1) RATE_LIMIT_START_PER_CLIENT = 10_000;
  @Transform(toInt) @IsInt() @Min(1) RATE_LIMIT_OTP_FAILURES_PER_IP = 50;
  @Transform(toInt) @IsInt() @Min(1) RATE_LIMIT_OTP_FAILURES_PER_IDENTIFIER = 10;
  @Transform(toInt) @IsInt() @Min(1000) RATE_LIMIT_OTP_WINDOW_MS = 3_600_000;
  @Matches(/^(\*|\d{1,3}(,\d{1,3})*)$/, { message: 'must be * or a comma-separated list of calling codes' })
  SMS_ALLOWED_CALLING_CODES = DEFAULT_SMS_CALLING_CODES;
  @Transform(toInt) @IsInt() @Min(1) SMS_COUNTRY_BUDGET_PER_HOUR = 1000;
  @Transform(toInt) @IsInt() @Min(1) SMS_PREFIX_BUDGET_PER_HOUR = 100;
  @Transform(toInt) @IsInt() @Min(1) @Max(8) SMS_PREFIX_DIGITS = 3;
  @Transform(toInt) @IsInt() @Min(1000) SMS_BREAKER_WINDOW_MS = 3_600_000;
  @Transform(toInt) @IsInt() @Min(1) SMS_BREAKER_MIN_SENDS = 20;
  @Transform(toNumber) @IsNumber() @Min(0) @Max(1) SMS_BREAKER_MIN_CONVERSION = 0.2;
  @Transform(toInt) @IsInt() @Min(1000) SMS_BREAKER_COOLOFF_MS = 1_800_000;
  @IsIn(['error', 'warn', 'log', 'debug', 'verbose']) LOG_LEVEL = 'log';
  @Transform(toInt) @IsInt() @Min(100) @Max(120_000) DELIVERY_TIMEOUT_MS = 10_000;
  @Matches(/^(email|sms)(,(email|sms))?$/) WORKER_QUEUES = 'email,sms';
  @Transform(toInt) @IsInt() @Min(1) @Max(500) WORKER_EMAIL_CONCURRENCY = 20;
  @Transform(toInt) @IsInt() @Min(1) @Max(500) WORKER_SMS_CONCURRENCY = 10;
  @Transform(toInt) @IsInt() @Min(0) @Max(65535) WORKER_HEALTH_PORT = 3001;
  @Transform(toInt) @IsInt() @Min(500) WORKER_LOCK_DURATION_MS = 30_000;
  @Transform(toInt) @IsInt() @Min(100) WORKER_STALLED_INTERVAL_MS = 30_000;
  @IsOptional() @IsIn(['smtp', 'log']) EMAIL_PROVIDER?: string;
  @IsOptional() @Matches(/^smtps?:\/\//) SMTP_URL?: string;
  // Half the default email concurrency: a worker then keeps enough sessions open that its jobs rarely wait for one
  // (with 5, two workers drained about 20% fewer emails/s on the bench: docs/benchmarks.md "Workers").
  @Transform(toInt) @IsInt() @Min(1) @Max(100) SMTP_POOL_SIZE = 10;
  @Transform(toBool) @IsBoolean() SMTP_TLS_REJECT_UNAUTHORIZED = true;
  @Transform(toBool) @IsBoolean() SMTP_REQUIRE_TLS = false;
  @IsOptional() @IsIn(['twilio', 'http', 'log']) SMS_PROVIDER?: string;
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true }) TWILIO_BASE_URL =
    'https://api.twilio.com';
  @IsOptional() @Matches(/^AC[0-9a-zA-Z]{1,64}$/) TWILIO_ACCOUNT_SID?: string;
  @IsOptional() @IsString() TWILIO_AUTH_TOKEN?: string;
  @IsOptional() @IsString() TWILIO_FROM?: string;
  @IsOptional() @Matches(/^MG[0-9a-zA-Z]{1,64}$/) TWILIO_MESSAGING_SERVICE_SID?: string;
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  SMS_GATEWAY_URL?: string;
  @IsOptional() @IsString() @MinLength(16) SMS_GATEWAY_JWT_SECRET?: string;
  @Transform(toBool) @IsBoolean() SMS_GATEWAY_JWT_SECRET_BASE64 = false;
  @IsOptional() @IsString() SMS_GATEWAY_JWT_SUBJECT?: string;
  @IsOptional() @IsString() SMS_GATEWAY_JWT_AUDIENCE?: string;
  /** JSON array of private RSA keys: `{"kid","pem"}` objects (PKCS#8 or PKCS#1 PEM) or private JWKs. */
  @IsOptional() @IsString() SIGNING_KEYS?: string;
  @IsOptional() @IsString() SIGNING_KEY_ACTIVE_KID?: string;
  @Transform(toInt) @IsInt() @Min(60) @Max(2_592_000) ACCESS_TOKEN_TTL_SECONDS = 86_400;
  @Transform(toInt) @IsInt() @Min(60) @Max(2_592_000) ID_TOKEN_TTL_SECONDS = 36_000;
  /** Comma-separated API identifiers a client may request as `audience`. */
  @IsOptional() @IsString() TOKEN_AUDIENCES?: string;
}

/** A configured signing key before import: a PEM with an optional kid, or a private JWK. */
export type SigningKeyInput = { kid?: string; pem: string } | { kid?: string; jwk: Record<string, unknown> };

export class ConfigError extends Error {}

/** Limits a client may override in its `rate_limits` column (same names, camelCase). */
export interface ClientRateLimits {
  startPerIp: number;
  startPerIdentifier: number;
  startIdentifierCooldownMs: number;
  startPerClient: number;
  otpFailuresPerIp: number;
  otpFailuresPerIdentifier: number;
}

export interface RateLimitConfig {
  startWindowMs: number;
  otpWindowMs: number;
  defaults: ClientRateLimits;
}

export interface SmsGuardConfig {
  /** `*` allows every calling code. */
  allowedCallingCodes: string[] | '*';
  countryBudgetPerHour: number;
  prefixBudgetPerHour: number;
  /** National digits after the calling code that form a "prefix" (3: +1 202…, +44 790…). */
  prefixDigits: number;
  breaker: { windowMs: number; minSends: number; minConversion: number; coolOffMs: number };
}

/** The typed configuration tree the rest of the code depends on (injectable as a class token). */
export class AppConfig {
  readonly env!: 'development' | 'test' | 'production';
  readonly http!: { port: number; host: string; bodyLimit: number; trustProxy: boolean };
  readonly databaseUrl!: string;
  readonly databasePoolSize!: number;
  /** How long a client or connection row read on the request path is reused (0: read every time). */
  readonly lookupCacheTtlMs!: number;
  readonly migrationsRun!: boolean;
  readonly redis!: { url: string; prefix: string };
  /** Always ends with a slash: it is the `aud` of client assertions and the `iss` of tokens. */
  readonly issuerBaseUrl!: string;
  readonly secrets!: { codeHashSecret: string; encryptionKey: Buffer; usingDevelopmentDefaults: boolean };
  readonly delivery!: {
    maxAttempts: number;
    backoffMs: number;
    enqueueTimeoutMs: number;
    outboxRelayIntervalMs: number;
  };
  readonly rateLimit!: RateLimitConfig;
  /** SMS pumping guards (README "Abuse protection"); `sms` holds the delivery provider settings. */
  readonly smsGuard!: SmsGuardConfig;
  readonly logLevel!: 'error' | 'warn' | 'log' | 'debug' | 'verbose';
  readonly worker!: {
    queues: Array<'email' | 'sms'>;
    concurrency: { email: number; sms: number };
    /** 0 = an ephemeral port (tests). */
    healthPort: number;
    lockDurationMs: number;
    stalledIntervalMs: number;
  };
  readonly email!: {
    provider: 'smtp' | 'log';
    smtp: { url?: string; poolSize: number; tlsRejectUnauthorized: boolean; requireTls: boolean };
  };
  readonly sms!: {
    provider: 'twilio' | 'http' | 'log';
    twilio: { baseUrl: string; accountSid?: string; authToken?: string; from?: string; messagingServiceSid?: string };
    gateway: { url?: string; jwt?: { secret: Buffer; subject?: string; audience?: string } };
  };
  /** Timeout of one call to an SMTP server or SMS vendor. */
  readonly deliveryTimeoutMs!: number;
  /** No configured signing keys means a development key is generated and kept in the database (SigningKeyStore). */
  readonly tokens!: {
    signingKeys: SigningKeyInput[];
    activeKid?: string;
    accessTokenTtl: number;
    idTokenTtl: number;
    audiences: string[];
  };
}

/** Validates `env` once and builds the typed tree. Throws ConfigError naming the bad keys (never their values). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const defined = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const vars = plainToInstance(EnvVars, defined, { exposeDefaultValues: true });
  const errors = validateSync(vars, { whitelist: false });
  const problems = errors.map((e) => `${e.property} (${Object.keys(e.constraints ?? {}).join(', ')})`);
  const production = vars.NODE_ENV === 'production';
  if (production && !vars.CODE_HASH_SECRET) problems.push('CODE_HASH_SECRET (required in production)');
  if (production && !vars.CODE_ENCRYPTION_KEY) problems.push('CODE_ENCRYPTION_KEY (required in production)');
  const signingKeys = parseSigningKeys(vars.SIGNING_KEYS);
  if (signingKeys === undefined)
    problems.push('SIGNING_KEYS (must be a JSON array of {"kid","pem"} objects or private JWKs)');
  if (vars.SIGNING_KEY_ACTIVE_KID && !signingKeys?.some((k) => k.kid === vars.SIGNING_KEY_ACTIVE_KID)) {
    problems.push('SIGNING_KEY_ACTIVE_KID (names no kid in SIGNING_KEYS)');
  }
  if (problems.length > 0) throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);

  return {
    env: vars.NODE_ENV as AppConfig['env'],
    http: { port: vars.PORT, host: vars.HOST, bodyLimit: vars.BODY_LIMIT_BYTES, trustProxy: vars.TRUST_PROXY },
    databaseUrl: vars.DATABASE_URL,
    databasePoolSize: vars.DATABASE_POOL_SIZE,
    lookupCacheTtlMs: vars.LOOKUP_CACHE_TTL_MS,
    migrationsRun: vars.MIGRATIONS_RUN,
    redis: { url: vars.REDIS_URL, prefix: vars.REDIS_PREFIX },
    issuerBaseUrl: vars.ISSUER_BASE_URL.endsWith('/') ? vars.ISSUER_BASE_URL : `${vars.ISSUER_BASE_URL}/`,
    secrets: {
      codeHashSecret: vars.CODE_HASH_SECRET ?? DEV_CODE_HASH_SECRET,
      encryptionKey: Buffer.from(vars.CODE_ENCRYPTION_KEY ?? DEV_ENCRYPTION_KEY, 'base64'),
      usingDevelopmentDefaults: !vars.CODE_HASH_SECRET || !vars.CODE_ENCRYPTION_KEY,
    },
    delivery: {
      maxAttempts: vars.DELIVERY_MAX_ATTEMPTS,
      backoffMs: vars.DELIVERY_BACKOFF_MS,
      enqueueTimeoutMs: vars.ENQUEUE_TIMEOUT_MS,
      outboxRelayIntervalMs: vars.OUTBOX_RELAY_INTERVAL_MS,
    },
    rateLimit: {
      startWindowMs: vars.RATE_LIMIT_START_WINDOW_MS,
      otpWindowMs: vars.RATE_LIMIT_OTP_WINDOW_MS,
      defaults: {
        startPerIp: vars.RATE_LIMIT_START_PER_IP,
        startPerIdentifier: vars.RATE_LIMIT_START_PER_IDENTIFIER,
        startIdentifierCooldownMs: vars.RATE_LIMIT_START_IDENTIFIER_COOLDOWN_MS,
        startPerClient: vars.RATE_LIMIT_START_PER_CLIENT,
        otpFailuresPerIp: vars.RATE_LIMIT_OTP_FAILURES_PER_IP,
        otpFailuresPerIdentifier: vars.RATE_LIMIT_OTP_FAILURES_PER_IDENTIFIER,
      },
    },
    smsGuard: {
      allowedCallingCodes: vars.SMS_ALLOWED_CALLING_CODES === '*' ? '*' : vars.SMS_ALLOWED_CALLING_CODES.split(','),
      countryBudgetPerHour: vars.SMS_COUNTRY_BUDGET_PER_HOUR,
      prefixBudgetPerHour: vars.SMS_PREFIX_BUDGET_PER_HOUR,
      prefixDigits: vars.SMS_PREFIX_DIGITS,
      breaker: {
        windowMs: vars.SMS_BREAKER_WINDOW_MS,
        minSends: vars.SMS_BREAKER_MIN_SENDS,
        minConversion: vars.SMS_BREAKER_MIN_CONVERSION,
        coolOffMs: vars.SMS_BREAKER_COOLOFF_MS,
      },
    },
    logLevel: vars.LOG_LEVEL as AppConfig['logLevel'],
    worker: {
      queues: [...new Set(vars.WORKER_QUEUES.split(','))] as Array<'email' | 'sms'>,
      concurrency: { email: vars.WORKER_EMAIL_CONCURRENCY, sms: vars.WORKER_SMS_CONCURRENCY },
      healthPort: vars.WORKER_HEALTH_PORT,
      lockDurationMs: vars.WORKER_LOCK_DURATION_MS,
      stalledIntervalMs: vars.WORKER_STALLED_INTERVAL_MS,
    },
    // The `log` providers print messages (codes included): never a default in production.
    email: {
      provider: (vars.EMAIL_PROVIDER ?? (production ? 'smtp' : 'log')) as AppConfig['email']['provider'],
      smtp: {
        url: vars.SMTP_URL,
        poolSize: vars.SMTP_POOL_SIZE,
        tlsRejectUnauthorized: vars.SMTP_TLS_REJECT_UNAUTHORIZED,
        requireTls: vars.SMTP_REQUIRE_TLS,
      },
    },
    sms: {
      provider: (vars.SMS_PROVIDER ?? (production ? 'twilio' : 'log')) as AppConfig['sms']['provider'],
      twilio: {
        baseUrl: vars.TWILIO_BASE_URL.replace(/\/+$/, ''),
        accountSid: vars.TWILIO_ACCOUNT_SID,
        authToken: vars.TWILIO_AUTH_TOKEN,
        from: vars.TWILIO_FROM,
        messagingServiceSid: vars.TWILIO_MESSAGING_SERVICE_SID,
      },
      gateway: {
        url: vars.SMS_GATEWAY_URL,
        jwt: vars.SMS_GATEWAY_JWT_SECRET
          ? {
              secret: Buffer.from(vars.SMS_GATEWAY_JWT_SECRET, vars.SMS_GATEWAY_JWT_SECRET_BASE64 ? 'base64' : 'utf8'),
              subject: vars.SMS_GATEWAY_JWT_SUBJECT,
              audience: vars.SMS_GATEWAY_JWT_AUDIENCE,
            }
          : undefined,
      },
    },
    deliveryTimeoutMs: vars.DELIVERY_TIMEOUT_MS,
    tokens: {
      signingKeys: signingKeys ?? [],
      activeKid: vars.SIGNING_KEY_ACTIVE_KID,
      accessTokenTtl: vars.ACCESS_TOKEN_TTL_SECONDS,
      idTokenTtl: vars.ID_TOKEN_TTL_SECONDS,
      audiences: (vars.TOKEN_AUDIENCES ?? '')
        .split(',')
        .map((a) => a.trim())
        .filter(Boolean),
    },
  };
}

/**
 * Settings only a worker needs, checked when a worker boots (the API process does not need SMTP or Twilio
 * credentials). Returns the problems, naming keys only.
 */
export function workerConfigProblems(config: AppConfig): string[] {
  const problems: string[] = [];
  const { queues } = config.worker;
  if (queues.includes('email') && config.email.provider === 'smtp' && !config.email.smtp.url)
    problems.push('SMTP_URL (required with EMAIL_PROVIDER=smtp)');
  if (queues.includes('sms') && config.sms.provider === 'twilio') {
    const { accountSid, authToken, from, messagingServiceSid } = config.sms.twilio;
    if (!accountSid || !authToken)
      problems.push('TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (required with SMS_PROVIDER=twilio)');
    if (from && messagingServiceSid) problems.push('TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID (set one, not both)');
  }
  if (queues.includes('sms') && config.sms.provider === 'http' && !config.sms.gateway.url)
    problems.push('SMS_GATEWAY_URL (required with SMS_PROVIDER=http)');
  return problems;
}

/** Shape check only (undefined = malformed); the keys themselves are imported, and so checked, by SigningKeyStore. */
function parseSigningKeys(raw: string | undefined): SigningKeyInput[] | undefined {
  if (!raw) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed)) return undefined;
  const keys: SigningKeyInput[] = [];
  for (const entry of parsed as unknown[]) {
    if (typeof entry !== 'object' || entry === null) return undefined;
    const { kid, pem, ...rest } = entry as Record<string, unknown>;
    if (kid !== undefined && typeof kid !== 'string') return undefined;
    if (typeof pem === 'string') keys.push({ kid, pem });
    else if (typeof rest.kty === 'string') keys.push({ kid, jwk: { ...rest, ...(kid ? { kid } : {}) } });
    else return undefined;
  }
  return keys;
}
