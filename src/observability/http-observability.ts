import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { failureType, isOtpFailure, refusedRule, successType, type AnsweredError } from './auth0-log-types';
import { metrics } from './metrics';
import { RequestContext, accessLogger, runInRequest } from './logging';
import type { AppConfig } from '../config/app-config';

/** An `x-request-id` a caller (or a proxy in front) sent is kept when it looks like an id; anything else is replaced. */
const VALID_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** Fastify's `genReqId`: the caller's valid `x-request-id`, or a new UUID. */
export function requestIdFor(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && VALID_REQUEST_ID.test(given) ? given : randomUUID();
}

const contexts = new WeakMap<FastifyRequest, RequestContext>();
const errors = new WeakMap<FastifyRequest, AnsweredError>();

/** Called by the error filter: the access line reports what the answer was about (limit rule, Auth0 event code). */
export function noteApiError(request: FastifyRequest, error: AnsweredError): void {
  errors.set(request, error);
}

const field = (source: unknown, key: string): string | undefined => {
  const value = (source as Record<string, unknown> | undefined)?.[key];
  return typeof value === 'string' ? value.slice(0, 128) : undefined;
};

/**
 * Request ids (echoed as `x-request-id`), the request's logging context from the handler on, and one access line per
 * request: method, route pattern, status, duration, client, connection, IP, plus the Auth0 log event `type` and the
 * limit `rule` when there is one. Never a body, a header value other than the id, or a query string.
 */
export function observeHttp(fastify: FastifyInstance, config: AppConfig): void {
  const log = accessLogger(config);
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    done();
  });
  // After body parsing (whose stream callbacks do not carry an async context), so the handler runs inside it.
  fastify.addHook('preHandler', (request, _reply, done) => {
    const context = new RequestContext(request.id);
    contexts.set(request, context);
    runInRequest(context, done);
  });
  fastify.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const error = errors.get(request);
    const body = request.body;
    const grantType = field(body, 'grant_type');
    const fields = contexts.get(request)?.fields;
    const rule = refusedRule(error);
    const status = reply.statusCode;
    const type = fields?.type ?? (error ? failureType(route, error, grantType) : successType(route, status, grantType));
    const otpFailure = error !== undefined && isOtpFailure(route, error, grantType);
    const durationMs = Math.round(reply.elapsedTime * 10) / 10;
    // Probes would fill the log: their lines only at debug.
    (route === '/health' ? log.debug.bind(log) : log.info.bind(log))(
      {
        reqId: request.id,
        method: request.method,
        route,
        status,
        durationMs,
        client_id: field(body, 'client_id') ?? field(request.query, 'client_id'),
        connection: field(body, 'connection') ?? field(request.query, 'connection'),
        grant_type: grantType,
        ip: request.ip,
        ...(type ? { type } : {}),
        ...(rule ? { rule } : {}),
        ...(error ? { error: error.error } : {}),
        ...fields,
      },
      'request',
    );
    const m = metrics();
    if (m) {
      m.httpDuration.observe({ method: request.method, route, status }, durationMs / 1000);
      if (rule) m.refusals.inc({ rule });
      if (otpFailure) m.otpFailures.inc({ route });
      if (route === '/oauth/token' && status === 200 && grantType) m.tokensIssued.inc({ grant_type: grantType });
      if (route === '/passwordless/start') {
        // Labels only from an accepted start (a known connection), so callers cannot create series.
        const ok = status === 200;
        const outcome = ok ? 'ok' : status === 429 ? 'refused' : status === 503 ? 'unavailable' : 'invalid';
        const send = field(body, 'send');
        m.starts.inc({
          connection: ok ? (field(body, 'connection') ?? '-') : '-',
          send: send === 'code' || send === 'link' ? send : '-',
          outcome,
        });
      }
    }
    done();
  });
}
