// Hand-written: only refusing U+0000 (PostgreSQL text cannot hold it) and form __proto__ keys (qs drops them silently).
import formBody from '@fastify/formbody';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parse as parseQueryString, type IParseOptions } from 'qs';
import { httpErrors } from './auth0-errors';

// eslint-disable-next-line no-control-regex -- matching U+0000 is the point
const NUL = /\u0000/;
const PROTO_KEY = /(^|\[)__proto__($|[[\]])/;

/**
 * Form keys as Auth0 reads them: `authParams[scope]=openid` becomes `{authParams: {scope: 'openid'}}` (one level);
 * repeated keys become arrays, so validation refuses them instead of silently picking one. A `__proto__` key (it
 * would become a prototype when class-transformer copies the body onto the DTO) or a NUL anywhere is refused.
 */
const FORM_OPTIONS: IParseOptions = {
  depth: 1,
  plainObjects: true,
  parameterLimit: 1000,
  throwOnLimitExceeded: true,
  decoder: (text, decode, charset, type) => {
    const decoded: unknown = decode(text, decode, charset);
    if (typeof decoded === 'string' && (NUL.test(decoded) || (type === 'key' && PROTO_KEY.test(decoded))))
      throw new Error('refused');
    return decoded;
  },
};

/** A NUL in any key or value of a parsed JSON body. */
function containsNul(value: unknown): boolean {
  if (typeof value === 'string') return NUL.test(value);
  if (typeof value === 'object' && value !== null)
    return Object.entries(value).some(([k, v]) => NUL.test(k) || containsNul(v));
  return false;
}

function badBody(message: string): Error {
  return Object.assign(new Error(message), { statusCode: 400, code: 'FST_ERR_CTP_INVALID_BODY' });
}

export function parseFormBody(text: string): Record<string, unknown> {
  try {
    return { ...parseQueryString(text, FORM_OPTIONS) };
  } catch {
    throw badBody('NUL character, __proto__ key or over 1000 parameters in form body');
  }
}

/** The query-string twin of the body rule: `%00` can never reach a query (PostgreSQL text cannot hold it). */
export function refuseNulInUrls(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (request, _reply, done) => {
    done(/%00/i.test(request.url) ? httpErrors.malformedQueryString() : undefined);
  });
}

/**
 * Fastify's JSON parser (secure-json-parse: a `__proto__` key, even escaped, is a 400) also for JSON sent as
 * text/plain, which the Auth0 Node SDK sends when a caller passes custom headers; @fastify/formbody with qs for forms.
 * Fastify answers a body over `bodyLimit` with 413 before any parser runs.
 */
export async function registerBodyParsers(fastify: FastifyInstance): Promise<void> {
  const parseJson = fastify.getDefaultJsonParser('error', 'ignore');
  const json = (request: FastifyRequest, text: string, done: (err: Error | null, body?: unknown) => void) =>
    parseJson(request, text, (err: Error | null, body?: unknown) => {
      // In JSON text a NUL can only arrive as the escape \u0000 (RFC 8259 §7); text without one skips the walk.
      if (!err && text.includes('\\u0000') && containsNul(body)) return done(badBody('NUL character in JSON'));
      done(err, body);
    });
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser(['application/json', 'text/plain'], { parseAs: 'string' }, json);
  fastify.addContentTypeParser(/^application\/[a-z.+-]*json$/, { parseAs: 'string' }, json);
  await fastify.register(formBody, { parser: parseFormBody });
}
