import { echo, invalidType } from '../common/auth0-errors';
import { Auth0Field, optionalString, requiredString } from '../common/auth0-validation';
import { describeType, isPlainObject } from '../common/json-types';

export const SEND_MODES = ['link', 'code'] as const;
const MAX_AUTH_PARAMS = 32;
const MAX_AUTH_PARAM_LENGTH = 2048;

const sendEnum = (value: unknown) => {
  if (value === undefined || value === null) return null;
  return typeof value === 'string' && (SEND_MODES as readonly string[]).includes(value)
    ? null
    : `error in send - No enum match for: ${echo(typeof value === 'string' ? value : JSON.stringify(value))}`;
};

/** authParams is an object of scalar link parameters (scope, state, redirect_uri, response_type, nonce, ...). */
const authParamsShape = (value: unknown) => {
  if (value === undefined || value === null) return null;
  if (!isPlainObject(value)) return invalidType('authParams', value, 'object');
  const entries = Object.entries(value);
  if (entries.length > MAX_AUTH_PARAMS) return `error in authParams - too many properties (at most ${MAX_AUTH_PARAMS})`;
  for (const [key, param] of entries) {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(key)) return `error in authParams - invalid property name: ${echo(key)}`;
    if (!['string', 'number', 'boolean'].includes(typeof param))
      return `error in authParams.${key} - invalid type: ${describeType(param)} (expected string)`;
    if (String(param).length > MAX_AUTH_PARAM_LENGTH) return `error in authParams.${key} - string is too long`;
  }
  return null;
};

/** Body of POST /passwordless/start (Auth0 Authentication API). Shape only; the service checks what needs the DB. */
export class StartPasswordlessDto {
  // Client credentials are checked by ClientAuthGuard (client_id may come from Basic auth instead); declared here
  // so they count as allowed properties.
  @Auth0Field('bad.client_id', optionalString('client_id')) client_id?: string;
  @Auth0Field('bad.request', optionalString('client_secret')) client_secret?: string;
  @Auth0Field('bad.request', optionalString('client_assertion')) client_assertion?: string;
  @Auth0Field('bad.request', optionalString('client_assertion_type')) client_assertion_type?: string;

  @Auth0Field('bad.connection', requiredString('connection')) connection!: string;
  @Auth0Field('bad.send', sendEnum) send?: (typeof SEND_MODES)[number] | null;
  @Auth0Field('bad.authParams', authParamsShape) authParams?: Record<string, string | number | boolean> | null;
  // Only the type here: the format is checked once the connection's strategy is known (see identifier.ts).
  @Auth0Field('bad.email', optionalString('email')) email?: string;
  @Auth0Field('bad.phone_number', optionalString('phone_number')) phone_number?: string;
  /** Sent by auth0.js / Lock when bot detection is on; accepted and ignored (no CAPTCHA is enforced). */
  @Auth0Field('bad.request', optionalString('captcha')) captcha?: string;
}

/** Auth0's documented validation order: client_id, connection, send, authParams, then the identifier. */
export const START_FIELD_PRIORITY = ['client_id', 'connection', 'send', 'authParams', 'email', 'phone_number'];
