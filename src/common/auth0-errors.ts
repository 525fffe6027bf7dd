import { ApiError } from './api-error';
import { describeType } from './json-types';

/**
 * Every error this service answers, with Auth0's status, `error` code and `error_description` text (Auth0
 * Authentication API). `detail` is logged, never sent. Call sites throw these by name, so a text changes in one place.
 */

const MAX_ECHO = 200;
/** Values are echoed the way Auth0 does, but cut short so a 1 MB field cannot be reflected back. */
export const echo = (value: unknown): string => String(value).slice(0, MAX_ECHO);

export const missing = (field: string) => `Missing required property: ${field}`;
export const invalidType = (field: string, value: unknown, expected: string) =>
  `error in ${field} - invalid type: ${describeType(value)} (expected ${expected})`;

/** How an endpoint words the errors it shares (Auth0's start endpoint uses `bad.*`, OAuth uses RFC 6749). */
export type ErrorDialect = 'passwordless' | 'oauth';

/** Auth0's documented 429: the same body for every limit. */
export const TOO_MANY_REQUESTS_DESCRIPTION =
  'Too many requests. Check the X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset headers.';

/** Answers of the HTTP layer: routing, body parsing, CORS, limits, outages. */
export const httpErrors = {
  originNotAllowed: (origin: unknown) => new ApiError(403, 'access_denied', `Origin ${echo(origin)} is not allowed.`),
  bodyTooLarge: () => new ApiError(413, 'invalid_request', 'Request body is too large.'),
  unsupportedContentType: () =>
    new ApiError(
      415,
      'invalid_request',
      'Unsupported content type. Use application/json or application/x-www-form-urlencoded.',
    ),
  notFound: () => new ApiError(404, 'not_found', 'Not Found'),
  methodNotAllowed: () => new ApiError(405, 'method_not_allowed', 'Method Not Allowed'),
  /** Another 4xx from the framework, with its own status. */
  clientError: (status: number, detail?: string) => new ApiError(status, 'invalid_request', 'Invalid request.', detail),
  malformedBody: (detail?: string) => new ApiError(400, 'invalid_request', 'Malformed request body.', detail),
  malformedQueryString: () => new ApiError(400, 'invalid_request', 'Malformed query string.'),
  tooManyRequests: (detail?: string, headers?: Record<string, string>) =>
    new ApiError(429, 'too_many_requests', TOO_MANY_REQUESTS_DESCRIPTION, detail, headers),
  temporarilyUnavailable: (detail: string, retryAfterSeconds?: number) =>
    new ApiError(
      503,
      'temporarily_unavailable',
      'The service is temporarily unavailable. Please try again later.',
      detail,
      retryAfterSeconds === undefined ? {} : { 'Retry-After': String(retryAfterSeconds) },
    ),
  serverError: (detail?: string) => new ApiError(500, 'server_error', 'Internal server error.', detail),
};

/** Client authentication (RFC 6749 §2.3, RFC 7523), as node-oidc-provider words it. */
export const clientAuthErrors = {
  /** One answer for every failed authentication: it must not tell which check failed. */
  invalidClient: (detail: string) => new ApiError(401, 'invalid_client', 'Client authentication failed.', detail),
  authenticationRequired: () => new ApiError(403, 'unauthorized_client', 'Client authentication is required'),
  severalMechanisms: () =>
    new ApiError(400, 'invalid_request', 'client authentication must only be provided using one mechanism'),
  clientIdMismatch: () => new ApiError(400, 'invalid_request', 'mismatch in body and authorization client ids'),
  assertionType: (expected: string) =>
    new ApiError(400, 'invalid_request', `client_assertion_type must be ${expected}`),
  bodyNotAnObject: (body: unknown, dialect: ErrorDialect) =>
    new ApiError(
      400,
      dialect === 'passwordless' ? 'bad.request' : 'invalid_request',
      `error in body - invalid type: ${describeType(body)} (expected object)`,
    ),
  missingClientId: (dialect: ErrorDialect) =>
    dialect === 'passwordless'
      ? new ApiError(400, 'bad.client_id', missing('client_id'))
      : new ApiError(400, 'invalid_request', 'missing client_id parameter'),
  credentialType: (field: string, value: unknown, dialect: ErrorDialect) => {
    const description = invalidType(field, value, 'string');
    if (dialect === 'passwordless' && field === 'client_id') return new ApiError(400, 'bad.client_id', description);
    return new ApiError(400, dialect === 'passwordless' ? 'bad.request' : 'invalid_request', description);
  },
  /** The client may not use `grant` (the start and the OTP grant both need the passwordless OTP grant). */
  grantNotAllowed: (grant: string) =>
    new ApiError(403, 'unauthorized_client', `Grant type '${grant}' not allowed for the client.`),
};

/** POST /passwordless/start (Auth0's `bad.*` codes). */
export const startErrors = {
  /** A body field that failed its check (see auth0-validation), with the code of that field. */
  badField: (code: string, description: string) => new ApiError(400, code, description),
  propertiesNotAllowed: (names: string[]) =>
    new ApiError(400, 'bad.request', `the following properties are not allowed: ${names.join(',')}`),
  connectionNotFound: () => new ApiError(400, 'bad.connection', 'Connection does not exist'),
  connectionDisabled: () => new ApiError(400, 'bad.connection', 'Connection is disabled'),
  linkOverSms: () => new ApiError(400, 'bad.send', "error in send - Only 'code' is supported for SMS connections"),
  redirectUriNotAllowed: () =>
    new ApiError(
      400,
      'bad.authParams',
      'error in authParams - redirect_uri is not in the list of allowed callback URLs for this client',
    ),
  redirectUriRequired: () =>
    new ApiError(
      400,
      'bad.authParams',
      'error in authParams - redirect_uri is required to send a link and the client has no callback URLs',
    ),
  missingEmail: () => new ApiError(400, 'bad.email', missing('email')),
  invalidEmail: (email: string) =>
    new ApiError(400, 'bad.email', `error in email - email format validation failed: ${echo(email)}`),
  missingPhoneNumber: () => new ApiError(400, 'bad.phone_number', missing('phone_number')),
  phoneNumberPattern: () => new ApiError(400, 'bad.phone_number', 'String does not match pattern: ^\\+[0-9]{1,15}$'),
  invalidPhoneNumber: (phone: string) =>
    new ApiError(400, 'bad.phone_number', `error in phone_number - invalid phone number: ${echo(phone)}`),
  callingCodeNotAllowed: (callingCode: string) =>
    new ApiError(
      400,
      'bad.phone_number',
      `error in phone_number - SMS to country calling code +${callingCode} is not allowed for this connection`,
    ),
};

/** POST /oauth/token, POST /passwordless/verify and GET /userinfo (RFC 6749 §5.2, RFC 6750 §3.1). */
export const tokenErrors = {
  missingParameter: (name: string) => new ApiError(400, 'invalid_request', `missing ${name} parameter`),
  parameterNotString: (name: string) => new ApiError(400, 'invalid_request', `${name} parameter must be a string`),
  unsupportedGrantType: (grantType: unknown) =>
    new ApiError(400, 'unsupported_grant_type', `Unsupported grant type: ${echo(grantType)}`),
  connectionNotFound: () => new ApiError(400, 'invalid_request', 'the connection was not found'),
  connectionDisabled: () => new ApiError(400, 'invalid_request', 'the connection was disabled'),
  /** A wrong, used or expired code or token (`description` says which, in Auth0's words). */
  invalidGrant: (description: string, detail?: string) => new ApiError(403, 'invalid_grant', description, detail),
  invalidRedirectUri: () => new ApiError(403, 'invalid_grant', 'Invalid redirect_uri'),
  codeVerifierFailed: () => new ApiError(403, 'invalid_grant', 'Failed to verify code verifier'),
  invalidAuthorizationCode: () => new ApiError(403, 'invalid_grant', 'Invalid authorization code'),
  invalidRefreshToken: (detail: string) =>
    new ApiError(403, 'invalid_grant', 'Unknown or invalid refresh token.', detail),
  scopeNotGranted: (scopes: string[]) =>
    new ApiError(400, 'invalid_scope', `Scope ${echo(scopes.join(' '))} was not granted.`),
  serviceNotFound: (audience: string) => new ApiError(403, 'access_denied', `Service not found: ${echo(audience)}`),
  /** POST /passwordless/verify's answers for a wrong code, and for one tried too often. */
  invalidUserPassword: (description: string) => new ApiError(401, 'invalid_user_password', description),
  tooManyAttempts: (description: string) => new ApiError(429, 'too_many_attempts', description),
  /** RFC 6750 §3: a bearer-token failure answers 401 with a WWW-Authenticate challenge. */
  invalidToken: (description: string) =>
    new ApiError(401, 'invalid_token', description, undefined, {
      'WWW-Authenticate': `Bearer error="invalid_token", error_description="${description}"`,
    }),
};

/** GET/POST /passwordless/verify_redirect: the link's authorization request (OAuth 2.0, OIDC Core §3). */
export const linkErrors = {
  unsupportedResponseType: (responseType: unknown) =>
    new ApiError(400, 'unsupported_response_type', `Unsupported response type: ${echo(responseType)}`),
  nonceRequired: () => new ApiError(400, 'invalid_request', 'nonce is required when response_type includes id_token'),
  codeChallengeNotS256: () =>
    new ApiError(400, 'invalid_request', 'code_challenge must be a S256 challenge (code_challenge_method=S256)'),
  codeChallengeRequired: () =>
    new ApiError(400, 'invalid_request', 'code_challenge is required for public clients (PKCE S256)'),
  incomplete: () => new ApiError(400, 'invalid_request', 'The link is incomplete.'),
  altered: (fields: string[]) =>
    new ApiError(400, 'invalid_request', `The link was altered (${fields.join(', ')}). Please try to login again.`),
  accessDenied: (description: string) => new ApiError(403, 'access_denied', description),
};

/**
 * GET /authorize (Auth0 Authentication API; docs/auth0-compatibility.md, "/authorize"). Until client_id and redirect_uri
 * are trusted these are shown on the error page; after that they are sent to the application with `state`.
 */
export const authorizeErrors = {
  missingParameter: (name: string) => new ApiError(400, 'invalid_request', `Missing required parameter: ${name}`),
  repeatedParameter: (name: string) =>
    new ApiError(400, 'invalid_request', `Parameter ${echo(name)} must be given once.`),
  parameterTooLong: (name: string) => new ApiError(400, 'invalid_request', `Parameter ${echo(name)} is too long.`),
  unknownClient: (clientId: string) => new ApiError(400, 'invalid_request', `Unknown client: ${echo(clientId)}`),
  callbackMismatch: (uri: string) =>
    new ApiError(
      400,
      'unauthorized_client',
      `Callback URL mismatch. ${echo(uri)} is not in the list of allowed callback URLs`,
    ),
  noRegisteredOrigin: (uri: string) =>
    new ApiError(
      400,
      'invalid_request',
      `The specified redirect_uri '${echo(uri)}' does not have a registered origin.`,
    ),
  unsupportedResponseMode: (mode: string) =>
    new ApiError(400, 'invalid_request', `Unsupported response_mode: ${echo(mode)}`),
  /** OAuth 2.0 Multiple Response Types §2.1: tokens never travel in the query string. */
  queryModeWithTokens: () =>
    new ApiError(400, 'invalid_request', 'response_mode=query is not allowed when response_type returns tokens'),
  invalidPrompt: (prompt: string) => new ApiError(400, 'invalid_request', `Unsupported prompt: ${echo(prompt)}`),
  invalidMaxAge: () => new ApiError(400, 'invalid_request', 'max_age must be a non-negative integer'),
  loginRequired: () => new ApiError(400, 'login_required', 'Login required'),
  requestTooLarge: () => new ApiError(400, 'invalid_request', 'The authorization request is too large.'),
  noPasswordlessConnection: () =>
    new ApiError(400, 'invalid_request', 'No passwordless connection is enabled for the client.'),
  invalidLoginTicket: () => new ApiError(403, 'access_denied', 'Invalid or expired login_ticket'),
  /** The hosted page's forms: the pending request is missing, expired, or belongs to another browser. */
  noTransaction: () =>
    new ApiError(400, 'invalid_request', 'The login request has expired or was started in another browser.'),
};

/** POST /co/authenticate (cross-origin authentication, auth0.js passwordlessLogin from an application's page). */
export const crossOriginErrors = {
  notAllowed: () => new ApiError(401, 'unauthorized_client', 'Cross origin login not allowed.'),
  invalidBody: () =>
    new ApiError(
      400,
      'invalid_request',
      'Invalid request body. All and only of client_id, credential_type, username, otp, realm are required.',
    ),
  unknownRealm: (realm: string) => new ApiError(400, 'invalid_request', `Unknown realm ${echo(realm)}.`),
  unsupportedCredentialType: () => new ApiError(400, 'unsupported_credential_type', 'Unsupported credential_type.'),
  accessDenied: (description: string) => new ApiError(403, 'access_denied', description),
  tooManyAttempts: (description: string) => new ApiError(429, 'too_many_attempts', description),
};
