import { timingSafeEqual } from 'node:crypto';

/** Constant-time equality for secrets and MACs; a length mismatch answers false without comparing. */
export function constantTimeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
