/**
 * A failed send, already classified. `permanent` failures (recipient rejected, invalid number, template error) are
 * not retried; everything else is. The message is safe to store: status codes and vendor error codes, never secrets.
 */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

/** HTTP vendors: 5xx, 408 and 429 are worth retrying; any other 4xx will fail the same way again. */
export function httpDeliveryError(vendor: string, status: number, detail: string): DeliveryError {
  const transient = status >= 500 || status === 408 || status === 429;
  return new DeliveryError(`${vendor} HTTP ${status}${detail ? `: ${detail}` : ''}`, !transient);
}

/** POST with a timeout; network errors and timeouts become transient DeliveryErrors. */
export async function postWithTimeout(
  vendor: string,
  url: string,
  init: RequestInit,
  timeoutMs: number,
): Promise<Response> {
  try {
    return await fetch(url, { ...init, method: 'POST', signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const reason =
      (err as Error).name === 'TimeoutError'
        ? `timed out after ${timeoutMs} ms`
        : `request failed (${(err as Error).message})`;
    throw new DeliveryError(`${vendor} ${reason}`, false);
  }
}

const MAX_ERROR_LENGTH = 500;

/** The error text stored with an attempt: secrets that might have been echoed back are masked, length is capped. */
export function sanitiseError(err: unknown, secrets: Array<string | undefined>): string {
  let text =
    err instanceof DeliveryError ? err.message : err instanceof Error ? `${err.name}: ${err.message}` : 'Unknown error';
  for (const secret of secrets) if (secret) text = text.split(secret).join('[redacted]');
  return text.replace(/\s+/g, ' ').trim().slice(0, MAX_ERROR_LENGTH);
}
