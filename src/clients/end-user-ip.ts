import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { isIP } from 'node:net';
import type { ClientEntity } from './client.entity';

/** Auth0's header carrying the end user's IP when a backend calls on the user's behalf. */
export const FORWARDED_FOR_HEADER = 'auth0-forwarded-for';

/**
 * The IP of the request's sender: `req.ip` honours X-Forwarded-For up to the proxies TRUST_PROXY trusts (Fastify
 * trustProxy). A forwarded value that is not an IP (a client writing junk into X-Forwarded-For in front of a proxy
 * that only appends) never becomes a limit key: the connecting address is used instead.
 */
export function requestIp(req: FastifyRequest): string {
  return isIP(req.ip) ? req.ip : (req.socket.remoteAddress ?? 'unknown');
}

/**
 * The end user's IP: the request's (requestIp), or the one a trusted backend forwards for its user. Auth0
 * honours `auth0-forwarded-for` only from a confidential application that authenticated and whose "Trust Token
 * Endpoint IP Header" is on (Auth0 docs: Migrate to Passwordless Endpoint from Confidential Applications); anyone
 * else could spoof it to dodge per-IP limits, so it is ignored for them.
 */
export function endUserIp(req: FastifyRequest, client: ClientEntity): string {
  const forwarded = req.headers[FORWARDED_FOR_HEADER];
  if (
    client.authMethod !== 'none' &&
    client.trustForwardedFor &&
    typeof forwarded === 'string' &&
    isIP(forwarded.trim())
  ) {
    return forwarded.trim();
  }
  return requestIp(req);
}

/** The end user's IP for the client that ClientAuthGuard (or the start's guard) authenticated. */
export const EndUserIp = createParamDecorator((_data: unknown, context: ExecutionContext): string => {
  const request = context.switchToHttp().getRequest<FastifyRequest & { client?: ClientEntity }>();
  if (!request.client) throw new Error('EndUserIp used on a route without client authentication');
  return endUserIp(request, request.client);
});
