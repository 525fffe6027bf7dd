import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { isIP } from 'node:net';
import type { ClientEntity } from './client.entity';

/** Auth0's header carrying the end user's IP when a backend calls on the user's behalf. */
export const FORWARDED_FOR_HEADER = 'auth0-forwarded-for';

/**
 * The end user's IP. `req.ip` already honours X-Forwarded-For when TRUST_PROXY is on (Fastify trustProxy). Auth0
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
  return req.ip;
}

/** The end user's IP for the client that ClientAuthGuard (or the start's guard) authenticated. */
export const EndUserIp = createParamDecorator((_data: unknown, context: ExecutionContext): string => {
  const request = context.switchToHttp().getRequest<FastifyRequest & { client?: ClientEntity }>();
  if (!request.client) throw new Error('EndUserIp used on a route without client authentication');
  return endUserIp(request, request.client);
});
