import type { VerificationEntity } from './verification.entity';

/** Query keys the link itself sets; authParams may add or override any other link parameter (Auth0 D-legacy). */
export const RESERVED_LINK_PARAMS = ['client_id', 'connection', 'email', 'phone_number', 'verification_code'];

/** `<ISSUER_BASE_URL>passwordless/verify_redirect?client_id&connection&email&verification_code&<authParams>`. */
export function buildMagicLink(
  issuerBaseUrl: string,
  record: Pick<VerificationEntity, 'clientId' | 'connection' | 'identifier' | 'authParams'>,
  linkToken: string,
): string {
  const url = new URL('passwordless/verify_redirect', issuerBaseUrl);
  url.searchParams.set('client_id', record.clientId);
  url.searchParams.set('connection', record.connection);
  url.searchParams.set(record.identifier.startsWith('+') ? 'phone_number' : 'email', record.identifier);
  url.searchParams.set('verification_code', linkToken);
  for (const [key, value] of Object.entries(record.authParams)) {
    if (!RESERVED_LINK_PARAMS.includes(key)) url.searchParams.set(key, value);
  }
  return url.toString();
}
