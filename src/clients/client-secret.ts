import { createHash } from 'node:crypto';
import { constantTimeEqual } from '../common/constant-time';

/**
 * Client secrets are 256-bit random values, so a fast hash is enough to make a stolen table useless (no dictionary
 * to try); a slow KDF would only add latency to every authenticated call. Stored as `sha256:<hex>`.
 */
export function hashClientSecret(secret: string): string {
  return `sha256:${createHash('sha256').update(secret, 'utf8').digest('hex')}`;
}

export function clientSecretMatches(candidate: string, stored: string | null): boolean {
  if (!stored?.startsWith('sha256:')) return false;
  const expected = Buffer.from(stored.slice('sha256:'.length), 'hex');
  const actual = createHash('sha256').update(candidate, 'utf8').digest();
  return constantTimeEqual(expected, actual);
}
