/**
 * An error with a stable public code and message (Auth0's `{"error","error_description"}` body) and an optional
 * private detail that is logged but never sent (oidc-provider's `error_detail` pattern).
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
    readonly detail?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(`${error}: ${description}`);
  }

  toBody(): { error: string; error_description: string } {
    return { error: this.error, error_description: this.description };
  }
}

/** Auth0's documented 429 (docs-v2 api/authentication.mdx); the same body for every limit. */
export const TOO_MANY_REQUESTS_DESCRIPTION =
  'Too many requests. Check the X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset headers.';

export const invalidClient = (detail: string) =>
  new ApiError(401, 'invalid_client', 'Client authentication failed.', detail);

export const temporarilyUnavailable = (detail: string, retryAfterSeconds?: number) =>
  new ApiError(
    503,
    'temporarily_unavailable',
    'The service is temporarily unavailable. Please try again later.',
    detail,
    retryAfterSeconds === undefined ? {} : { 'Retry-After': String(retryAfterSeconds) },
  );

/** Retry-After of a 503 caused by a database or Redis outage: a client retrying sooner would only add load. */
export const DEPENDENCY_RETRY_AFTER_SECONDS = 5;
