import { createHash } from 'node:crypto';
import type { ApiError } from '../common/api-error';
import { httpErrors } from '../common/auth0-errors';
import type { LimitDecision, LimitState } from './sliding-window.store';

/** Auth0's headers: the bucket size, what is left, and when it refills, in UTC epoch seconds. */
export function rateLimitHeaders(state: LimitState, resetAtMs = state.resetAtMs): Record<string, string> {
  return {
    'X-RateLimit-Limit': String(state.rule.limit),
    'X-RateLimit-Remaining': String(state.remaining),
    'X-RateLimit-Reset': String(Math.ceil(resetAtMs / 1000)),
  };
}

/** 429 for an exceeded limit: its headers, with Reset and Retry-After (RFC 9110 §10.2.3) at the earliest retry. */
export function tooManyRequests(denied: NonNullable<LimitDecision['denied']>, nowMs: number): ApiError {
  return pausedUntil(
    denied.retryAtMs,
    nowMs,
    rateLimitHeaders({ ...denied.state, remaining: 0 }, denied.retryAtMs),
    denied.state.rule.name,
  );
}

/** 429 for a send that is paused (circuit breaker) rather than counted. */
export function pausedUntil(untilMs: number, nowMs: number, headers: Record<string, string>, reason: string): ApiError {
  const retryAfter = String(Math.max(1, Math.ceil((untilMs - nowMs) / 1000)));
  return httpErrors.tooManyRequests(`limit ${reason}`, { ...headers, 'Retry-After': retryAfter });
}

/** Identifiers (emails, phone numbers) are hashed into keys so Redis holds no personal data in clear. */
export function identifierKey(scope: string, identifier: string): string {
  return `${scope}:${createHash('sha256').update(identifier).digest('base64url').slice(0, 22)}`;
}
