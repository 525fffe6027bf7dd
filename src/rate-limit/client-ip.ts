import type { FastifyRequest } from 'fastify';
import { isIP } from 'node:net';
import type { ClientEntity } from '../clients/client.entity';

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

/**
 * The key an IP is limited under. An IPv6 user usually controls a whole /64 (RFC 6177 assigns /48–/64 to sites), so
 * limiting single IPv6 addresses would let one user rotate through 2^64 of them; IPv4-mapped addresses count as IPv4.
 */
export function ipLimitKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1];
  if (isIP(ip) !== 6) return ip;
  const [head, tail = ''] = ip.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = ip.includes('::') ? (tail ? tail.split(':') : []) : [];
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
