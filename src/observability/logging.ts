import type { LoggerService } from '@nestjs/common';
import { Logger as NestPinoLogger, PinoLogger } from 'nestjs-pino';
// nestjs-pino's own request store (what its HTTP middleware fills, which this app does not mount: no middie).
import { Store, storage } from 'nestjs-pino/storage';
import pino, { type Logger as Pino } from 'pino';
import type { AppConfig } from '../config/app-config';

/** LOG_LEVEL keeps Nest's names; pino's equivalents. */
const PINO_LEVELS = { error: 'error', warn: 'warn', log: 'info', debug: 'debug', verbose: 'trace' } as const;

/**
 * Never written, wherever they appear in a logged object: credentials, codes, link tokens, assertions, tokens, and
 * request bodies as a whole. Messages themselves never interpolate them (the code is reviewed for that).
 */
export const REDACTED_PATHS = [
  'body',
  '*.body',
  'headers.authorization',
  'headers.cookie',
  '*.headers.authorization',
  '*.headers.cookie',
  ...[
    'client_secret',
    'client_assertion',
    'otp',
    'code',
    'code_verifier',
    'verification_code',
    'sealedSecret',
    'linkToken',
    'access_token',
    'id_token',
    'refresh_token',
    'token',
    'password',
  ].flatMap((key) => [key, `*.${key}`]),
];

let root: Pino | undefined;
let access: Pino | undefined;
let pinoLogger: PinoLogger | undefined;

/**
 * The process's one pino logger: one JSON object per line (production, test), or pino-pretty in development when it
 * is installed (a dev dependency: the production image does not have it, and then gets JSON too).
 */
export function rootLogger(config: Pick<AppConfig, 'env' | 'logLevel'>, role?: string): Pino {
  if (root) return root;
  const options: pino.LoggerOptions = {
    level: PINO_LEVELS[config.logLevel],
    base: role ? { role } : {},
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  const redact = { paths: REDACTED_PATHS, censor: '[redacted]' };
  const pretty = config.env === 'development' && installed('pino-pretty');
  if (pretty) {
    root = pino({ ...options, redact, transport: { target: 'pino-pretty', options: { ignore: 'pid,hostname,role' } } });
    access = root;
  } else {
    const destination = pino.destination({ fd: 1, sync: true });
    root = pino({ ...options, redact }, destination);
    access = pino(options, destination);
  }
  pinoLogger = new PinoLogger({ pinoHttp: { logger: root } });
  return root;
}

/**
 * The access lines' logger: the same output as rootLogger, without redaction. An access line is built from named
 * fields that hold no secret (observeHttp), and redaction's path matching cost more than the rest of the line.
 */
export function accessLogger(config: Pick<AppConfig, 'env' | 'logLevel'>, role?: string): Pino {
  rootLogger(config, role);
  return access!;
}

function installed(name: string): boolean {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
}

/** Nest's logger for the whole process: every `new Logger(context)` call site writes through pino. */
export function nestLogger(config: Pick<AppConfig, 'env' | 'logLevel'>, role?: string): LoggerService {
  rootLogger(config, role);
  return new NestPinoLogger(pinoLogger!, {});
}

/**
 * What a request (or the job it caused) carries: nestjs-pino's per-request store (its logger binds `reqId`, so every
 * Nest `Logger` line written inside carries it), plus the fields for the request's access line. The child logger is
 * made on first use: most requests log nothing but their access line.
 */
export class RequestContext implements Store {
  readonly fields: AccessLineFields = {};
  private child: Pino | undefined;

  constructor(readonly requestId: string) {}

  get logger(): Pino {
    return (this.child ??= (root ?? disabled()).child({ reqId: this.requestId }));
  }

  /** nestjs-pino's PinoLogger.assign replaces the store's logger with a child that has more bindings. */
  set logger(logger: Pino) {
    this.child = logger;
  }
}

let silent: Pino | undefined;
const disabled = () => (silent ??= pino({ enabled: false }));

export function currentRequest(): RequestContext | undefined {
  const store = storage.getStore();
  return store instanceof RequestContext ? store : undefined;
}

/** What a handler may add to its request's access line (never a secret: the access line is not redacted). */
export interface AccessLineFields {
  /** The Auth0 log event code of the outcome (`cls`, `cs`, ...). */
  type?: string;
  send?: 'code' | 'link';
}

/** Adds fields to the current request's access line (no-op outside a request). */
export function annotateRequest(fields: AccessLineFields): void {
  const context = currentRequest();
  if (context) Object.assign(context.fields, fields);
}

/** Runs `work` inside `context` (the API per request, a worker per job). */
export function runInRequest<T>(context: RequestContext, work: () => T): T {
  return storage.run(context, work);
}

/** Runs a job under the id of the request that caused it (none: as it is). */
export function runWithRequestId<T>(requestId: string | undefined, work: () => T): T {
  return requestId ? runInRequest(new RequestContext(requestId), work) : work();
}
