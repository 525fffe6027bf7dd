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

/** Retry-After of a 503 caused by a database or Redis outage: a client retrying sooner would only add load. */
export const DEPENDENCY_RETRY_AFTER_SECONDS = 5;
