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

export const invalidClient = (detail: string) => new ApiError(401, 'invalid_client', 'Client authentication failed.', detail);

export const temporarilyUnavailable = (detail: string) =>
  new ApiError(503, 'temporarily_unavailable', 'The service is temporarily unavailable. Please try again later.', detail);
