import { Injectable, Logger } from '@nestjs/common';
import type { FastifyCorsOptions } from '@fastify/cors';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction, RouteOptions } from 'fastify';
import { decodeJwt } from 'jose';
import { echo, httpErrors } from '../common/auth0-errors';
import type { ClientEntity } from '../clients/client.entity';
import { ClientsRepository } from '../clients/clients.repository';
import { AppConfig } from '../config/app-config';

/** The endpoints Auth0's browser SDKs call with fetch/XHR; each request names its client. */
const CLIENT_PATHS = new Set([
  '/passwordless/start',
  '/passwordless/verify',
  '/oauth/token',
  '/oauth/revoke',
  '/userinfo',
  '/co/authenticate',
]);
/** auth0.js calls /co/authenticate with credentials, so its answers (and preflights) must allow them. */
const WITH_CREDENTIALS = { credentials: true };
/** Public documents every origin may read (auth0.js fetches the JWKS to check id_tokens). */
const PUBLIC_PATHS = new Set(['/.well-known/jwks.json', '/.well-known/openid-configuration']);

/**
 * @fastify/cors options, fixed so that the plugin normalises them once (options chosen per request cost several µs
 * on every request, start included). The Origin is reflected: by the time the plugin runs, `gate` has refused any
 * request from an origin its client does not allow. A preflight carries no client_id, so it is answered for any
 * origin, with the fixed set of request headers the SDKs send (Auth0 refuses others).
 */
export const CORS_OPTIONS: FastifyCorsOptions = {
  hook: 'preHandler',
  origin: true,
  methods: ['GET', 'POST'],
  allowedHeaders: ['Content-Type', 'Auth0-Client', 'Authorization', 'X-Request-Language', 'DPoP'],
  maxAge: 86_400,
  strictPreflight: false,
};

/**
 * Per-client CORS (Auth0's Allowed Origins and Allowed Web Origins; callback origins count too). `gate` runs as a
 * preHandler before @fastify/cors, after the body is parsed and before guards and handlers: a request whose Origin is
 * not registered for the client it names is refused there, so it changes nothing and gets no
 * Access-Control-Allow-Origin. Client lookups go through the clients cache.
 */
@Injectable()
export class CorsPolicy {
  private readonly logger = new Logger('Cors');
  private readonly ownOrigin: string;
  /** Keyed by the cached client row: recomputed when the clients cache loads the row again. */
  private readonly originsByClient = new WeakMap<ClientEntity, ReadonlySet<string>>();

  constructor(
    private readonly clients: ClientsRepository,
    config: AppConfig,
  ) {
    this.ownOrigin = new URL(config.issuerBaseUrl).origin;
  }

  /** @fastify/cors answers only the browser endpoints; other routes (pages, redirects, health) get no CORS headers. */
  readonly onRoute = (route: RouteOptions): void => {
    // Its own preflight route (AuthorizeController) and the POST: only these allow credentials.
    if (route.url === '/co/authenticate') {
      route.config = { ...route.config, cors: WITH_CREDENTIALS };
      return;
    }
    if (route.method === 'OPTIONS' || CLIENT_PATHS.has(route.url) || PUBLIC_PATHS.has(route.url)) return;
    route.config = { ...route.config, cors: false };
  };

  /** A no-op for requests without an Origin header (backends, native apps, the start benchmark). */
  readonly gate = (req: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    const origin = req.headers.origin;
    if (origin === undefined || req.method === 'OPTIONS' || origin === this.ownOrigin) return done();
    if (!CLIENT_PATHS.has(pathOf(req.url))) return done();
    const clientId = clientIdOf(req);
    // Without a (known) client the handler refuses the request anyway.
    if (clientId === undefined) return done();
    this.clients.findById(clientId).then(
      (client) => {
        if (!client || this.originsOf(client).has(origin)) return done();
        this.logger.warn(`Origin not allowed for client ${client.clientId}: ${echo(origin)}`);
        done(httpErrors.originNotAllowed(origin));
      },
      (err: Error) => done(err),
    );
  };

  private originsOf(client: ClientEntity): ReadonlySet<string> {
    let origins = this.originsByClient.get(client);
    if (!origins) {
      const callbackOrigins = client.callbacks.flatMap((url) => {
        const parsed = URL.canParse(url) ? new URL(url) : undefined;
        return parsed && (parsed.protocol === 'https:' || parsed.protocol === 'http:') ? [parsed.origin] : [];
      });
      origins = new Set([...client.allowedOrigins, ...client.webOrigins, ...callbackOrigins]);
      this.originsByClient.set(client, origins);
    }
    return origins;
  }
}

function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/** The client a request names: body client_id, HTTP Basic user, or (for /userinfo) the bearer token's `azp`. */
function clientIdOf(req: FastifyRequest): string | undefined {
  const body = req.body;
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
    const clientId = (body as Record<string, unknown>).client_id;
    if (typeof clientId === 'string') return clientId;
  }
  const authorization = req.headers.authorization?.trim() ?? '';
  const basic = /^Basic ([A-Za-z0-9+/]+={0,2})$/i.exec(authorization)?.[1];
  if (basic) {
    const decoded = Buffer.from(basic, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    try {
      return colon > 0 ? decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' ')) : undefined;
    } catch {
      return undefined;
    }
  }
  const bearer = /^Bearer (\S+)$/i.exec(authorization)?.[1];
  if (bearer) {
    try {
      // Only picks the client whose origins apply; the handler verifies the token itself.
      const azp = decodeJwt(bearer).azp;
      return typeof azp === 'string' ? azp : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}
