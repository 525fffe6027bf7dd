import { randomBytes, randomInt } from 'node:crypto';
import { parseArgs } from 'node:util';
import {
  APP_TYPES,
  AUTH_METHODS,
  PASSWORDLESS_OTP_GRANT,
  PRIVATE_JWK_MEMBERS,
  type AppType,
  type PublicJwk,
  type TokenEndpointAuthMethod,
} from './client.entity';
import { hashClientSecret } from './client-secret';
import type { ClientRateLimits } from '../config/sections/rate-limit.config';
import { parseRateLimitOverrides } from './client-rate-limits';

export interface NewClientSpec {
  name: string;
  appType: AppType;
  authMethod: TokenEndpointAuthMethod;
  connections: string[];
  callbacks: string[];
  grantTypes: string[];
  jwks?: { keys: PublicJwk[] };
  rateLimits?: Partial<ClientRateLimits>;
  trustForwardedFor?: boolean;
  webOrigins?: string[];
  allowedOrigins?: string[];
  allowedLogoutUrls?: string[];
}

export interface RenderedClientMigration {
  clientId: string;
  /** Plaintext secret, to be shown once; only its hash is written into the migration. */
  secret?: string;
  className: string;
  fileName: string;
  source: string;
}

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

const CLIENT_OPTIONS = {
  name: { type: 'string' },
  type: { type: 'string' },
  auth: { type: 'string' },
  connections: { type: 'string' },
  callbacks: { type: 'string' },
  grants: { type: 'string' },
  'jwks-file': { type: 'string' },
  'rate-limits': { type: 'string' },
  'trust-forwarded-for': { type: 'string' },
  'web-origins': { type: 'string' },
  'allowed-origins': { type: 'string' },
  'logout-urls': { type: 'string' },
} as const;

/** Parses `client:new` flags into a spec, with the defaults an admin would expect; throws with a usage message. */
export function parseClientSpec(argv: string[], readFile: (path: string) => string): NewClientSpec {
  // strict: unknown options, positionals and options without a value are refused.
  const flags = parseArgs({ args: argv, options: CLIENT_OPTIONS, strict: true, allowPositionals: false }).values;
  const name = flags.name?.trim();
  if (!name) throw new Error('--name is required');
  const appType = (flags.type ?? 'regular_web') as AppType;
  if (!APP_TYPES.includes(appType)) throw new Error(`--type must be one of ${APP_TYPES.join(', ')}`);
  const isPublic = appType === 'spa' || appType === 'native';
  const authMethod = (flags.auth ?? (isPublic ? 'none' : 'client_secret_post')) as TokenEndpointAuthMethod;
  if (!AUTH_METHODS.includes(authMethod)) throw new Error(`--auth must be one of ${AUTH_METHODS.join(', ')}`);
  if (isPublic && authMethod !== 'none') throw new Error(`a ${appType} client is public: use --auth none`);
  if (!isPublic && authMethod === 'none')
    throw new Error(`a ${appType} client is confidential: choose a secret or private_key_jwt`);

  const list = (value: string | undefined, fallback: string[]) =>
    value
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean) ?? fallback;
  const callbacks = list(flags.callbacks, []);
  for (const url of callbacks) {
    if (!URL.canParse(url)) throw new Error(`Not a URL in --callbacks: ${url}`);
  }
  const spec: NewClientSpec = {
    name,
    appType,
    authMethod,
    connections: list(flags.connections, ['email', 'sms']),
    callbacks,
    grantTypes: list(flags.grants, defaultGrants(appType)),
  };
  const webOrigins = list(flags['web-origins'], []).map((o) => exactOrigin(o, '--web-origins'));
  const allowedOrigins = list(flags['allowed-origins'], []).map((o) => exactOrigin(o, '--allowed-origins'));
  const logoutUrls = list(flags['logout-urls'], []);
  for (const url of logoutUrls) {
    if (!URL.canParse(url) || url.includes('*')) throw new Error(`Not a URL in --logout-urls: ${url}`);
  }
  if (webOrigins.length) spec.webOrigins = webOrigins;
  if (allowedOrigins.length) spec.allowedOrigins = allowedOrigins;
  if (logoutUrls.length) spec.allowedLogoutUrls = logoutUrls;
  const rateLimits = flags['rate-limits'];
  if (rateLimits !== undefined) spec.rateLimits = parseRateLimitOverrides(rateLimits);
  const trust = flags['trust-forwarded-for'];
  if (trust !== undefined && trust !== 'true' && trust !== 'false')
    throw new Error('--trust-forwarded-for must be true or false');
  if (trust === 'true' && isPublic)
    throw new Error('--trust-forwarded-for is only for confidential clients (Auth0 trusts the header only from them)');
  if (trust === 'true') spec.trustForwardedFor = true;
  const jwksFile = flags['jwks-file'];
  if (authMethod === 'private_key_jwt') {
    if (!jwksFile) throw new Error('--jwks-file is required with --auth private_key_jwt');
    spec.jwks = readPublicJwks(readFile(jwksFile));
  } else if (jwksFile) {
    throw new Error('--jwks-file only applies to --auth private_key_jwt');
  }
  return spec;
}

/**
 * Auth0's defaults plus the passwordless grant (magic links redeem through authorization_code or implicit); SPAs and
 * native apps also get refresh_token, as Auth0 gives them.
 */
function defaultGrants(appType: AppType): string[] {
  const grants = [PASSWORDLESS_OTP_GRANT, 'authorization_code', 'implicit'];
  return appType === 'spa' || appType === 'native' ? [...grants, 'refresh_token'] : grants;
}

/** `scheme://host[:port]` exactly as a browser sends it in `Origin` (no path, no trailing slash, no wildcard). */
function exactOrigin(value: string, flag: string): string {
  const url = URL.canParse(value) ? new URL(value) : undefined;
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== value || value.includes('*'))
    throw new Error(`Not an exact origin (scheme://host[:port]) in ${flag}: ${value}`);
  return value;
}

/** Accepts a JWK Set or a single JWK; refuses anything carrying private key material. */
export function readPublicJwks(json: string): { keys: PublicJwk[] } {
  const parsed = JSON.parse(json) as { keys?: PublicJwk[] } & PublicJwk;
  const keys = Array.isArray(parsed.keys) ? parsed.keys : [parsed];
  if (keys.length === 0) throw new Error('The JWKS file has no keys');
  for (const key of keys) {
    if (key.kty !== 'RSA' && key.kty !== 'EC') throw new Error('Only RSA and EC public keys are supported');
    if (PRIVATE_JWK_MEMBERS.some((member) => member in key))
      throw new Error('The JWKS file contains private key material; register public keys only');
  }
  return { keys };
}

/** Renders a reviewable TypeORM migration that inserts the client (secret hashed) and deletes it on revert. */
export function renderClientMigration(spec: NewClientSpec, timestamp: number): RenderedClientMigration {
  const clientId = Array.from({ length: 32 }, () => BASE62[randomInt(BASE62.length)]).join('');
  const secret =
    spec.authMethod === 'client_secret_post' || spec.authMethod === 'client_secret_basic'
      ? randomBytes(48).toString('base64url')
      : undefined;
  const pascal =
    spec.name
      .replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())
      .replace(/^[a-z]/, (c) => c.toUpperCase())
      .replace(/^[^A-Za-z]+/, '') || 'Client';
  const className = `AddClient${pascal.slice(0, 60)}${timestamp}`;
  const row = {
    client_id: clientId,
    name: spec.name,
    app_type: spec.appType,
    token_endpoint_auth_method: spec.authMethod,
    client_secret_hash: secret ? hashClientSecret(secret) : null,
    jwks: spec.jwks ?? null,
    callbacks: spec.callbacks,
    grant_types: spec.grantTypes,
    connections: spec.connections,
    rate_limits: spec.rateLimits ?? {},
    trust_forwarded_for: spec.trustForwardedFor ?? false,
    web_origins: spec.webOrigins ?? [],
    allowed_origins: spec.allowedOrigins ?? [],
    allowed_logout_urls: spec.allowedLogoutUrls ?? [],
  };
  const source = `import { MigrationInterface, QueryRunner } from 'typeorm';

/** Generated by \`npm run client:new\`: adds the client "${spec.name.replace(/[*/]/g, '')}". The secret is stored only as a hash. */
export class ${className} implements MigrationInterface {
  name = '${className}';

  private readonly client = ${JSON.stringify(row, null, 2).replace(/\n/g, '\n  ')};

  public async up(q: QueryRunner): Promise<void> {
    const c = this.client;
    const known = (await q.query('SELECT name FROM connections')) as Array<{ name: string }>;
    const unknown = c.connections.filter((name) => !known.some((k) => k.name === name));
    if (unknown.length > 0)
      throw new Error(\`${className}: unknown connections \${unknown.join(', ')} (the database has \${known.map((k) => k.name).join(', ')})\`);
    await q.query(
      \`INSERT INTO clients (client_id, name, app_type, token_endpoint_auth_method, client_secret_hash, jwks, callbacks, grant_types, connections,
                            rate_limits, trust_forwarded_for, web_origins, allowed_origins, allowed_logout_urls)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)\`,
      [c.client_id, c.name, c.app_type, c.token_endpoint_auth_method, c.client_secret_hash, c.jwks === null ? null : JSON.stringify(c.jwks),
        JSON.stringify(c.callbacks), JSON.stringify(c.grant_types), JSON.stringify(c.connections), JSON.stringify(c.rate_limits), c.trust_forwarded_for,
        JSON.stringify(c.web_origins), JSON.stringify(c.allowed_origins), JSON.stringify(c.allowed_logout_urls)],
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query('DELETE FROM clients WHERE client_id = $1', [this.client.client_id]);
  }
}
`;
  return { clientId, secret, className, fileName: `${timestamp}-${className.replace(/\d+$/, '')}.ts`, source };
}
