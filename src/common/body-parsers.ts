import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from './api-error';

type Body = Record<string, unknown>;

/**
 * `a[b]=c` form keys become `{a: {b: c}}` (one level, as Auth0's `authParams` needs); repeated keys stay arrays so
 * that validation rejects them instead of silently picking one.
 */
export function parseFormBody(raw: string): Body {
  const body: Body = Object.create(null) as Body;
  for (const [key, value] of new URLSearchParams(raw)) {
    const nested = /^([^[\]]+)\[([^[\]]+)\]$/.exec(key);
    const [target, name] = nested ? [objectAt(body, nested[1]), nested[2]] : [body, key];
    if (!target) continue;
    const existing = target[name];
    target[name] =
      existing === undefined
        ? value
        : Array.isArray(existing)
          ? [...(existing as unknown[]), value]
          : [existing, value];
  }
  return { ...body };
}

function objectAt(body: Body, key: string): Body | undefined {
  const current = body[key];
  if (current === undefined) body[key] = Object.create(null) as Body;
  else if (typeof current !== 'object' || Array.isArray(current)) return undefined;
  return body[key] as Body;
}

/** PostgreSQL text cannot hold U+0000; refusing it at the edge keeps it out of every query (no 5xx later). */
// eslint-disable-next-line no-control-regex -- matching U+0000 is the point
const NUL = /\u0000/;

function containsNul(value: unknown): boolean {
  if (typeof value === 'string') return NUL.test(value);
  if (typeof value === 'object' && value !== null)
    return Object.entries(value).some(([k, v]) => NUL.test(k) || containsNul(v));
  return false;
}

/**
 * JSON text can only produce a `__proto__` key or a U+0000 through the literal name or a `\u` escape: a raw NUL is
 * a control character JSON.parse itself refuses inside strings (RFC 8259 §7). Text with neither skips the reviver,
 * which calls back for every value and made parsing several times slower.
 */
const mayHideRefusedContent = (text: string) => text.includes('\\u') || text.includes('__proto__');

/** __proto__ would become a prototype when class-transformer copies the body onto the DTO; NUL, see above. */
function refuseProtoAndNul(key: string, value: unknown): unknown {
  if (key === '__proto__' || NUL.test(key) || (typeof value === 'string' && NUL.test(value)))
    throw new Error('refused');
  return value;
}

function badBody(message: string): Error {
  return Object.assign(new Error(message), { statusCode: 400, code: 'FST_ERR_CTP_INVALID_BODY' });
}

/** The query-string twin of the body rule: `%00` can never reach a query (PostgreSQL text cannot hold it). */
export function refuseNulInUrls(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (request, _reply, done) => {
    done(/%00/i.test(request.url) ? new ApiError(400, 'invalid_request', 'Malformed query string.') : undefined);
  });
}

/**
 * Replaces Fastify's body parsers: JSON (with prototype-poisoning protection), forms, and JSON sent as text/plain —
 * the Auth0 Node SDK sends that when a caller passes custom headers.
 */
export function registerBodyParsers(fastify: FastifyInstance): void {
  const parseJson = (_req: FastifyRequest, raw: string | Buffer, done: (err: Error | null, body?: unknown) => void) => {
    const text = raw.toString();
    if (text.trim() === '') return done(null, {});
    try {
      done(null, mayHideRefusedContent(text) ? JSON.parse(text, refuseProtoAndNul) : JSON.parse(text));
    } catch {
      done(badBody('invalid JSON'));
    }
  };
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser(['application/json', 'text/plain'], { parseAs: 'string' }, parseJson);
  fastify.addContentTypeParser(/^application\/[a-z.+-]*json$/, { parseAs: 'string' }, parseJson);
  fastify.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, raw, done) => {
    const body = parseFormBody(raw.toString());
    if (containsNul(body) || Object.hasOwn(body, '__proto__'))
      return done(badBody('NUL character or __proto__ in form body'));
    done(null, body);
  });
}
