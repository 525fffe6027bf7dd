import { Injectable } from '@nestjs/common';
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { type Algorithm, createDecoder, createVerifier, TokenError } from 'fast-jwt';
import { ApiError } from '../common/api-error';
import { clientAuthErrors, httpErrors } from '../common/auth0-errors';
import { AppConfig } from '../config/app-config';
import { Clock } from '../common/clock';
import { AssertionReplayStore } from './assertion-replay.store';
import { PRIVATE_JWK_MEMBERS, type ClientEntity, type PublicJwk } from './client.entity';

export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/**
 * The JWS algorithms a client assertion may use (RFC 7518 §3.3-3.5): Auth0 accepts RS256, RS384 and PS256; ES256 is
 * added. Never HS* or none (RFC 7523 §3, RFC 8725 §3.1).
 */
export const ASSERTION_ALGORITHMS: Algorithm[] = ['RS256', 'RS384', 'PS256', 'ES256'];

const MAX_ASSERTION_BYTES = 2048;
const MAX_CLAIM_LENGTH = 64;
const MAX_LIFETIME_SECONDS = 300;
const CLOCK_TOLERANCE_SECONDS = 10;
/** NIST SP 800-57 and RFC 7518 §3.3: RSA keys under 2048 bits are not acceptable for signatures. */
const MIN_RSA_BITS = 2048;

type Claims = Record<string, unknown>;
type JwsHeader = Record<string, unknown>;

/** A registered key this server can verify with: its JWK (for matching the header) and its fast-jwt verifier. */
interface RegisteredKey {
  jwk: PublicJwk;
  verify: (token: string) => Claims;
}

const decodeJws = createDecoder({ complete: true }) as (token: string) => { header: JwsHeader; signature: string };

/**
 * private_key_jwt (RFC 7523, OIDC Core §9) as Auth0 documents it: iss = sub = client_id, aud = the issuer base URL
 * with trailing slash (or the endpoint URL), exp required and at most 5 minutes ahead, jti single-use. fast-jwt parses
 * the JWS and checks the signature on the calling thread with node:crypto (decision 044); the claims are checked here.
 */
@Injectable()
export class ClientAssertionVerifier {
  /**
   * The usable keys of each registered JWK Set object: the client row (and so its `jwks`) is reused while the lookup
   * cache holds it, so each key is imported once per client refresh instead of on every request; a changed row brings
   * a new object.
   */
  private readonly keySets = new WeakMap<object, RegisteredKey[]>();
  private readonly audiencesByEndpoint = new Map<string, string[]>();

  constructor(
    private readonly config: AppConfig,
    private readonly replay: AssertionReplayStore,
    private readonly clock: Clock,
  ) {}

  /** Verifies the assertion and records its jti as used; throws 401, or 503 when the jti cannot be recorded. */
  async verify(client: ClientEntity, assertion: string, endpointPath: string): Promise<void> {
    if (Buffer.byteLength(assertion) > MAX_ASSERTION_BYTES)
      throw clientAuthErrors.invalidClient('assertion exceeds 2048 bytes');
    const nowSeconds = Math.floor(this.clock.now().getTime() / 1000);
    const claims = this.signedClaims(client, assertion);
    const { jti, exp } = checkClaims(client, claims, this.acceptedAudiences(endpointPath), nowSeconds);

    const ttlMs = (exp - nowSeconds + CLOCK_TOLERANCE_SECONDS) * 1000;
    let firstUse: boolean;
    try {
      firstUse = await this.replay.markUsed(client.clientId, jti, ttlMs);
    } catch (err) {
      // Without the replay store we cannot prove single use; refuse rather than accept a possibly replayed assertion.
      throw httpErrors.temporarilyUnavailable(`jti store unavailable: ${(err as Error).message}`);
    }
    if (!firstUse) throw clientAuthErrors.invalidClient('assertion jti replayed');
  }

  /**
   * The claims of an assertion signed by one of the client's registered keys. Auth0's SDKs send no `kid`, so every
   * registered key that fits the header (kid, alg, use, key_ops, key type and curve) is tried. The signature is
   * checked before any claim: nothing in the claims means anything until the client is known to have made them.
   */
  private signedClaims(client: ClientEntity, assertion: string): Claims {
    const header = checkedHeader(assertion);
    for (const key of this.keysOf(client)) {
      if (!fits(key.jwk, header)) continue;
      try {
        return key.verify(assertion);
      } catch (err) {
        if (!(err instanceof TokenError) || !SIGNATURE_FAILURES.has(err.code)) throw refusalOf(err);
      }
    }
    throw clientAuthErrors.invalidClient(NOT_SIGNED_BY_CLIENT);
  }

  /** The key set is admin data (validated by the client migration), read defensively all the same: no 500 from it. */
  private keysOf(client: ClientEntity): RegisteredKey[] {
    const jwks: unknown = client.jwks;
    if (typeof jwks !== 'object' || jwks === null) return [];
    let keys = this.keySets.get(jwks);
    if (keys === undefined) {
      const entries: unknown[] = Array.isArray((jwks as { keys?: unknown }).keys)
        ? (jwks as { keys: unknown[] }).keys
        : [];
      keys = entries.flatMap((entry) => {
        const key = typeof entry === 'object' && entry !== null ? registeredKey(entry as PublicJwk) : undefined;
        return key ? [key] : [];
      });
      this.keySets.set(jwks, keys);
    }
    return keys;
  }

  /**
   * RFC 7523 §3: the audience identifies this authorization server, as its issuer URL or the endpoint's URL; never
   * derived from the request target. `endpointPath` is a registered route, so the map holds one entry per route.
   */
  private acceptedAudiences(endpointPath: string): string[] {
    let audiences = this.audiencesByEndpoint.get(endpointPath);
    if (!audiences) {
      audiences = [
        this.config.issuerBaseUrl,
        new URL(endpointPath.replace(/^\//, ''), this.config.issuerBaseUrl).toString(),
      ];
      this.audiencesByEndpoint.set(endpointPath, audiences);
    }
    return audiences;
  }
}

const NOT_SIGNED_BY_CLIENT = 'signature did not verify with any registered key';

/** fast-jwt's answers that mean "not this key": another registered key may still fit. */
const SIGNATURE_FAILURES = new Set<string>([
  TokenError.codes.invalidSignature,
  TokenError.codes.verifyError,
  TokenError.codes.invalidKey,
  TokenError.codes.invalidAlgorithm,
]);

/** The protected header, once the compact serialization parses (RFC 7515 §7.1) and asks for nothing unsupported. */
function checkedHeader(assertion: string): JwsHeader {
  let decoded: { header: JwsHeader; signature: string };
  try {
    decoded = decodeJws(assertion);
  } catch (err) {
    throw clientAuthErrors.invalidClient(`assertion: ${(err as Error).message}`);
  }
  const { header, signature } = decoded;
  // RFC 4648 §4: no base64url encoding is 4n+1 characters long.
  if (signature.length % 4 === 1) throw clientAuthErrors.invalidClient('assertion: the signature is not base64url');
  if (typeof header.alg !== 'string')
    throw clientAuthErrors.invalidClient('assertion: JWS "alg" (Algorithm) Header Parameter missing or invalid');
  if (!ASSERTION_ALGORITHMS.includes(header.alg as Algorithm))
    throw clientAuthErrors.invalidClient('assertion: JWS "alg" (Algorithm) Header Parameter value not allowed');
  // RFC 7515 §4.1.11: no extension is understood here (RFC 7797's b64 included), so any "crit" refuses the token.
  if (header.crit !== undefined)
    throw clientAuthErrors.invalidClient('assertion: JWS "crit" (Critical) Header Parameter is not supported');
  return header;
}

/**
 * A registered JWK imported for verification, or undefined when it cannot verify an assertion: restricted to another
 * use or operations (RFC 7517 §4.2-4.3), of a type or curve no allowed algorithm uses, an RSA key under 2048 bits, or
 * malformed. Only its public half is ever used, even if a private JWK was registered.
 */
function registeredKey(registered: PublicJwk): RegisteredKey | undefined {
  const jwk = Object.fromEntries(
    Object.entries(registered).filter(([member]) => !PRIVATE_JWK_MEMBERS.includes(member)),
  ) as PublicJwk;
  if (jwk.use !== undefined && jwk.use !== 'sig') return undefined;
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) return undefined;
  const algorithms = ASSERTION_ALGORITHMS.filter((alg) => fitsAlgorithm(jwk, alg));
  if (algorithms.length === 0) return undefined;
  try {
    const key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
    if (key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS)
      return undefined;
    const pem = key.export({ type: 'spki', format: 'pem' }) as string;
    // Dates are checked against the injected clock in checkClaims; fast-jwt's would read Date.now().
    const verify = createVerifier({
      key: pem,
      algorithms,
      cache: false,
      ignoreExpiration: true,
      ignoreNotBefore: true,
    });
    return { jwk, verify: verify as (token: string) => Claims };
  } catch {
    return undefined;
  }
}

/** RFC 7518 §3.1: RS* and PS* take an RSA key, ES256 a P-256 key; a JWK's own "alg" pins it to that algorithm. */
function fitsAlgorithm(jwk: PublicJwk, alg: string): boolean {
  if (jwk.alg !== undefined && jwk.alg !== alg) return false;
  return alg === 'ES256' ? jwk.kty === 'EC' && jwk.crv === 'P-256' : jwk.kty === 'RSA';
}

/** A "kid" in the header names the key (RFC 7515 §4.1.4); without one every key fitting "alg" is a candidate. */
function fits(jwk: PublicJwk, header: JwsHeader): boolean {
  return (typeof header.kid !== 'string' || header.kid === jwk.kid) && fitsAlgorithm(jwk, header.alg as string);
}

/** Whatever is wrong with the token or the key set, the answer is 401 (never a 500 from a crafted header). */
function refusalOf(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof TokenError && !SIGNATURE_FAILURES.has(err.code))
    return clientAuthErrors.invalidClient(`assertion: ${err.message}`);
  return clientAuthErrors.invalidClient(NOT_SIGNED_BY_CLIENT);
}

const REQUIRED_CLAIMS = ['iss', 'sub', 'aud', 'exp', 'jti'];

/** RFC 7523 §3 with Auth0's limits: the client as iss and sub, this server as aud, finite dates, a short lifetime. */
function checkClaims(
  client: ClientEntity,
  claims: Claims,
  audiences: string[],
  nowSeconds: number,
): { jti: string; exp: number } {
  for (const claim of REQUIRED_CLAIMS)
    if (!Object.hasOwn(claims, claim)) throw clientAuthErrors.invalidClient(`assertion has no ${claim} claim`);
  if (claims.iss !== client.clientId) throw clientAuthErrors.invalidClient('assertion iss is not the client_id');
  if (claims.sub !== client.clientId) throw clientAuthErrors.invalidClient('assertion sub is not the client_id');
  const aud = Array.isArray(claims.aud) ? (claims.aud as unknown[]) : [claims.aud];
  if (!aud.some((value) => typeof value === 'string' && audiences.includes(value)))
    throw clientAuthErrors.invalidClient('assertion aud is not this server');
  const { exp, nbf, iat, jti } = claims;
  // RFC 7519 §2: a NumericDate is a finite number (JSON allows 1e400, which parses to Infinity).
  if (!isNumericDate(exp) || ![nbf, iat].every((date) => date === undefined || isNumericDate(date)))
    throw clientAuthErrors.invalidClient('assertion exp, nbf or iat is not a NumericDate');
  if (exp <= nowSeconds - CLOCK_TOLERANCE_SECONDS) throw clientAuthErrors.invalidClient('assertion expired');
  if ((nbf as number | undefined) !== undefined && (nbf as number) > nowSeconds + CLOCK_TOLERANCE_SECONDS)
    throw clientAuthErrors.invalidClient('assertion not valid yet (nbf)');
  if (exp - nowSeconds > MAX_LIFETIME_SECONDS + CLOCK_TOLERANCE_SECONDS)
    throw clientAuthErrors.invalidClient('assertion lifetime exceeds 5 minutes');
  if ((iat as number | undefined) !== undefined && (iat as number) > nowSeconds + CLOCK_TOLERANCE_SECONDS)
    throw clientAuthErrors.invalidClient('assertion iat is in the future');
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_CLAIM_LENGTH)
    throw clientAuthErrors.invalidClient('jti missing or too long');
  if (client.clientId.length > MAX_CLAIM_LENGTH)
    throw clientAuthErrors.invalidClient('client_id too long for an assertion');
  return { jti, exp };
}

const isNumericDate = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
