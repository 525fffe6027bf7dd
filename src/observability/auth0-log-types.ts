/** What an error answer tells about itself (common/api-error's ApiError, without importing it). */
export interface AnsweredError {
  status: number;
  error: string;
  detail?: string;
}

/**
 * Auth0's tenant log event codes for the limits (listed in docs/operations.md): an IP blocked (`limit_mu`),
 * an identifier blocked (`limit_wc`), phone delivery blocked (`limit_phone`), a client's budget (`api_limit`).
 */
const LIMIT_TYPES: Record<string, string> = {
  'start-ip': 'limit_mu',
  'otp-failures-ip': 'limit_mu',
  'start-identifier': 'limit_wc',
  'start-identifier-cooldown': 'limit_wc',
  'otp-failures-identifier': 'limit_wc',
  'sms-country': 'limit_phone',
  'sms-prefix': 'limit_phone',
  'sms-breaker': 'limit_phone',
  'start-client': 'api_limit',
};

const OTP_GRANT = 'http://auth0.com/oauth/grant-type/passwordless/otp';

/** The limit rule a 429 names in its private detail (`limit <rule>`). */
export function refusedRule(error: AnsweredError | undefined): string | undefined {
  return error?.status === 429 ? (/^limit (\S+)/.exec(error.detail ?? '')?.[1] ?? 'throttler') : undefined;
}

/**
 * The Auth0 log event code of a refused request, from its route and error: limits, a failed cross-origin
 * authentication (`fcoa`), failed client authentication (`f`), a failed OTP exchange (`fepotpft`) or verification
 * (`f`). Successes are marked by the services (`cls`, `cs`, `s`, `ssa`, `scoa`) and so is a failed silent
 * authentication (`fsa`, answered as a redirect).
 */
export function failureType(route: string, error: AnsweredError, grantType: unknown): string | undefined {
  const rule = refusedRule(error);
  if (rule) return LIMIT_TYPES[rule] ?? 'api_limit';
  if (route === '/co/authenticate' && error.status < 500) return 'fcoa';
  if (error.error === 'invalid_client') return 'f';
  if (route === '/oauth/token' && grantType === OTP_GRANT && error.status < 500) return 'fepotpft';
  if (route.startsWith('/passwordless/verify') && error.status < 500) return 'f';
  return undefined;
}

/** Whether the refusal is a wrong or expired one-time code (counted as an OTP failure). */
export function isOtpFailure(route: string, error: AnsweredError, grantType: unknown): boolean {
  return (
    error.error === 'invalid_grant' &&
    ((route === '/oauth/token' && grantType === OTP_GRANT) || route.startsWith('/passwordless/verify'))
  );
}

/** Successful exchanges: OTP login (`s`: Auth0 has no OTP-specific success code), code (`seacft`), refresh (`sertft`). */
export function successType(route: string, status: number, grantType: unknown): string | undefined {
  if (route !== '/oauth/token' || status !== 200) return undefined;
  if (grantType === OTP_GRANT) return 's';
  if (grantType === 'authorization_code') return 'seacft';
  if (grantType === 'refresh_token') return 'sertft';
  return undefined;
}
