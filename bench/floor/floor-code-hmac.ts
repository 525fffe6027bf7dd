import { createHmac } from 'node:crypto';

/**
 * The exchange floor's code HMAC, keyed by who may redeem the code (client, connection, identifier) rather than by
 * record id, so the floor compares inside its one UPDATE. The benchmark seeds the floor's codes with it.
 */
export function floorCodeHmac(
  secret: string,
  clientId: string,
  connection: string,
  identifier: string,
  code: string,
): string {
  return createHmac('sha256', secret).update(`code\0${clientId}\0${connection}\0${identifier}\0${code}`).digest('hex');
}
