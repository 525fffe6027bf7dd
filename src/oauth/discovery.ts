import { ASSERTION_ALGORITHMS } from '../clients/client-assertion.verifier';
import { AUTH_METHODS, PASSWORDLESS_OTP_GRANT } from '../clients/client.entity';
import { TOKEN_SIGNING_ALG } from '../tokens/signing-key.store';
import { RESPONSE_TYPES } from './authorization-results';

/** OpenID Provider metadata (OIDC Discovery 1.0 §3) for what this service implements. */
export function openidConfiguration(issuer: string): Record<string, unknown> {
  return {
    issuer,
    authorization_endpoint: `${issuer}authorize`,
    token_endpoint: `${issuer}oauth/token`,
    userinfo_endpoint: `${issuer}userinfo`,
    revocation_endpoint: `${issuer}oauth/revoke`,
    end_session_endpoint: `${issuer}oidc/logout`,
    jwks_uri: `${issuer}.well-known/jwks.json`,
    response_types_supported: RESPONSE_TYPES,
    // As Auth0's discovery: web_message is supported but not listed.
    response_modes_supported: ['query', 'fragment', 'form_post'],
    grant_types_supported: [PASSWORDLESS_OTP_GRANT, 'authorization_code', 'implicit', 'refresh_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [TOKEN_SIGNING_ALG],
    scopes_supported: ['openid', 'email', 'phone', 'offline_access'],
    claims_supported: [
      'sub',
      'iss',
      'aud',
      'exp',
      'iat',
      'nonce',
      'at_hash',
      'c_hash',
      'auth_time',
      'azp',
      'sid',
      'email',
      'email_verified',
      'phone_number',
      'phone_verified',
    ],
    token_endpoint_auth_methods_supported: AUTH_METHODS,
    token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGORITHMS,
    revocation_endpoint_auth_methods_supported: AUTH_METHODS,
    code_challenge_methods_supported: ['S256'],
  };
}
