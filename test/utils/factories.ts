import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { exportJWK, exportPKCS8, SignJWT } from 'jose';
import { RandomSource } from '../../src/common/random.source';
import { newRecordId } from '../../src/verification/record-id';
import { testKeyPairFor } from './keys';
import type { DataSource } from 'typeorm';
import {
  PASSWORDLESS_OTP_GRANT,
  type AppType,
  type PublicJwk,
  type TokenEndpointAuthMethod,
} from '../../src/clients/client.entity';
import { hashClientSecret } from '../../src/clients/client-secret';
import type { NewVerification } from '../../src/verification/verifications.repository';

export interface TestClient {
  clientId: string;
  secret?: string;
  privateKey?: KeyObject;
  privateKeyPem?: string;
  alg?: string;
}

/** Like an Auth0 application with the Passwordless OTP grant enabled: links need authorization_code / implicit. */
const DEFAULT_GRANTS = [PASSWORDLESS_OTP_GRANT, 'authorization_code', 'implicit'];

export interface ClientOptions {
  appType?: AppType;
  authMethod?: TokenEndpointAuthMethod;
  connections?: string[];
  grantTypes?: string[];
  callbacks?: string[];
  alg?: 'RS256' | 'RS384' | 'PS256' | 'ES256';
  /** Extra public keys registered next to the signing key (to prove every key is tried). */
  extraJwks?: PublicJwk[];
  /** The `rate_limits` overrides column. */
  rateLimits?: Record<string, unknown>;
  trustForwardedFor?: boolean;
  webOrigins?: string[];
  allowedOrigins?: string[];
  allowedLogoutUrls?: string[];
}

/** Inserts a client straight into the clients table (as a seeding migration would) with fresh random ids. */
export async function createClient(dataSource: DataSource, options: ClientOptions = {}): Promise<TestClient> {
  const authMethod = options.authMethod ?? 'client_secret_post';
  const clientId = randomBytes(16).toString('hex');
  const client: TestClient = { clientId };
  let secretHash: string | null = null;
  let jwks: { keys: PublicJwk[] } | null = null;
  if (authMethod === 'client_secret_post' || authMethod === 'client_secret_basic') {
    client.secret = randomBytes(32).toString('base64url');
    secretHash = hashClientSecret(client.secret);
  }
  if (authMethod === 'private_key_jwt') {
    const alg = options.alg ?? 'RS256';
    const { publicKey, privateKey } = testKeyPairFor(alg);
    client.privateKey = privateKey;
    client.privateKeyPem = await exportPKCS8(privateKey);
    client.alg = alg;
    jwks = { keys: [...(options.extraJwks ?? []), { ...(await exportJWK(publicKey)), use: 'sig' } as PublicJwk] };
  }
  await dataSource.query(
    `INSERT INTO clients (client_id, name, app_type, token_endpoint_auth_method, client_secret_hash, jwks, callbacks, grant_types, connections,
                          rate_limits, trust_forwarded_for, web_origins, allowed_origins, allowed_logout_urls)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
    [
      clientId,
      `Test ${clientId.slice(0, 6)}`,
      options.appType ?? (authMethod === 'none' ? 'spa' : 'regular_web'),
      authMethod,
      secretHash,
      jwks ? JSON.stringify(jwks) : null,
      JSON.stringify(options.callbacks ?? ['https://app.example.com/callback']),
      JSON.stringify(options.grantTypes ?? DEFAULT_GRANTS),
      JSON.stringify(options.connections ?? ['email', 'sms']),
      JSON.stringify(options.rateLimits ?? {}),
      options.trustForwardedFor ?? false,
      JSON.stringify(options.webOrigins ?? []),
      JSON.stringify(options.allowedOrigins ?? []),
      JSON.stringify(options.allowedLogoutUrls ?? []),
    ],
  );
  return client;
}

export interface AssertionClaims {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  jti?: string;
  expiresIn?: number;
  omitExp?: boolean;
  iat?: number;
  alg?: string;
  /** The signer's clock (epoch seconds) for iat and exp; default now (a test with a ManualClock passes its time). */
  at?: number;
}

/** Signs a private_key_jwt client assertion the way the Auth0 SDKs do (no kid, aud = issuer with trailing slash). */
export async function signAssertion(
  client: TestClient,
  audience: string,
  claims: AssertionClaims = {},
): Promise<string> {
  if (!client.privateKey) throw new Error('client has no private key');
  const now = claims.at ?? Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({})
    .setProtectedHeader({ alg: claims.alg ?? client.alg ?? 'RS256' })
    .setIssuer(claims.iss ?? client.clientId)
    .setSubject(claims.sub ?? client.clientId)
    .setAudience(claims.aud ?? audience)
    .setJti(claims.jti ?? randomUUID())
    .setIssuedAt(claims.iat ?? now);
  if (!claims.omitExp) jwt.setExpirationTime(now + (claims.expiresIn ?? 120));
  return jwt.sign(client.privateKey);
}

/** An address from the 198.18.0.0/15 benchmarking range, unique enough per test to own its per-IP counters. */
export const uniqueIp = () => `198.${18 + randomInt(0, 2)}.${randomInt(0, 256)}.${randomInt(1, 255)}`;

export const uniqueEmail = () => `user.${randomBytes(6).toString('hex')}@example.com`;

/** A valid, unique-per-call US number in the 201-555-01xx style range libphonenumber accepts. */
export const uniquePhone = () => `+1202${String(2000000 + Math.floor(Math.random() * 7999999)).padStart(7, '0')}`;

/** A verification record as a start writes it: a time-ordered id, a random code HMAC, live for five minutes. */
export const newVerification = (clientId: string, connection: string, identifier: string): NewVerification => ({
  id: newRecordId(new Date(), new RandomSource()),
  clientId,
  connection,
  identifier,
  send: 'code',
  codeHmac: randomBytes(32).toString('hex'),
  linkTokenHmac: null,
  authParams: {},
  requestLanguage: null,
  expiresAt: new Date(Date.now() + 300_000),
  requestIp: '203.0.113.7',
});
