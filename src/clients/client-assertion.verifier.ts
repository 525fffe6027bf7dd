import { Injectable } from '@nestjs/common';
import {
  createLocalJWKSet,
  errors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
} from 'jose';
import { ApiError } from '../common/api-error';
import { clientAuthErrors, httpErrors } from '../common/auth0-errors';
import { AppConfig } from '../config/app-config';
import { Clock } from '../common/clock';
import { AssertionReplayStore } from './assertion-replay.store';
import { PRIVATE_JWK_MEMBERS, type ClientEntity, type PublicJwk } from './client.entity';

export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/**
 * The JWS algorithms a client assertion may use (RFC 7518 §3.3-3.5): Auth0 accepts RS256, RS384 and PS256; ES256 is
 * added. Never HS* or none (RFC 7523 §3, RFC 8725 §3.1). jose refuses RSA keys under 2048 bits (RFC 7518 §3.3).
 */
export const ASSERTION_ALGORITHMS = ['RS256', 'RS384', 'PS256', 'ES256'];

const MAX_ASSERTION_BYTES = 2048;
const MAX_CLAIM_LENGTH = 64;
const MAX_LIFETIME_SECONDS = 300;
const CLOCK_TOLERANCE_SECONDS = 10;

/**
 * private_key_jwt (RFC 7523, OIDC Core §9) as Auth0 documents it: iss = sub = client_id, aud = the issuer base URL
 * with trailing slash (or the endpoint URL), exp required and at most 5 minutes ahead, jti single-use. jose parses
 * the JWS and checks the signature and the standard claims; the Auth0 limits are checked here.
 */
@Injectable()
export class ClientAssertionVerifier {
  /**
   * One jose key set per registered JWK Set object: the client row (and so its `jwks`) is reused while the lookup cache
   * holds it, so each key is imported once per client refresh instead of on every request; a changed row brings a new
   * object.
   */
  private readonly keySets = new WeakMap<object, JWTVerifyGetKey | null>();
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
    const now = this.clock.now();
    const nowSeconds = Math.floor(now.getTime() / 1000);
    const claims = await this.verifiedClaims(client, assertion, {
      algorithms: ASSERTION_ALGORITHMS,
      issuer: client.clientId,
      subject: client.clientId,
      audience: this.acceptedAudiences(endpointPath),
      requiredClaims: ['exp', 'jti'],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      currentDate: now,
    });
    const { jti, exp } = checkAuth0Limits(client, claims, nowSeconds);

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
  private async verifiedClaims(
    client: ClientEntity,
    assertion: string,
    options: JWTVerifyOptions,
  ): Promise<JWTPayload> {
    const keySet = this.keySetOf(client);
    if (!keySet) throw clientAuthErrors.invalidClient(NOT_SIGNED_BY_CLIENT);
    try {
      try {
        return (await jwtVerify(assertion, keySet, options)).payload;
      } catch (err) {
        if (!(err instanceof errors.JWKSMultipleMatchingKeys)) throw err;
        for await (const key of err) {
          try {
            return (await jwtVerify(assertion, key, options)).payload;
          } catch (keyErr) {
            // Signed with this key but refused on its claims: no other key changes that.
            if (isClaimRefusal(keyErr) || keyErr instanceof errors.JWTInvalid) throw keyErr;
          }
        }
        throw new errors.JWSSignatureVerificationFailed();
      }
    } catch (err) {
      throw refusalOf(err);
    }
  }

  /** The key set is admin data (validated by the client migration), read defensively all the same: no 500 from it. */
  private keySetOf(client: ClientEntity): JWTVerifyGetKey | null {
    const jwks: unknown = client.jwks;
    if (typeof jwks !== 'object' || jwks === null) return null;
    let keySet = this.keySets.get(jwks);
    if (keySet === undefined) {
      const entries: unknown[] = Array.isArray((jwks as { keys?: unknown }).keys)
        ? (jwks as { keys: unknown[] }).keys
        : [];
      const keys = entries.filter((key): key is PublicJwk => typeof key === 'object' && key !== null).map(publicHalf);
      keySet = keys.length ? createLocalJWKSet({ keys }) : null;
      this.keySets.set(jwks, keySet);
    }
    return keySet;
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

/** Only ever the public half of a registered JWK, even if a private one was registered. */
function publicHalf(jwk: PublicJwk): PublicJwk {
  return Object.fromEntries(
    Object.entries(jwk).filter(([member]) => !PRIVATE_JWK_MEMBERS.includes(member)),
  ) as PublicJwk;
}

/** A token jose will not read (bad serialization, header, alg or crit) or whose claims are no JSON object. */
const isMalformed = (err: unknown): err is errors.JOSEError =>
  err instanceof errors.JWSInvalid ||
  err instanceof errors.JWTInvalid ||
  err instanceof errors.JOSEAlgNotAllowed ||
  err instanceof errors.JOSENotSupported;

const isClaimRefusal = (err: unknown): err is errors.JWTClaimValidationFailed | errors.JWTExpired =>
  err instanceof errors.JWTClaimValidationFailed || err instanceof errors.JWTExpired;

const CLAIM_REFUSALS: Record<string, string> = {
  iss: 'assertion iss is not the client_id',
  sub: 'assertion sub is not the client_id',
  aud: 'assertion aud is not this server',
  exp: 'assertion expired',
  nbf: 'assertion not valid yet (nbf)',
};

/** Whatever is wrong with the token or the key set, the answer is 401 (never a 500 from a crafted header). */
function refusalOf(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (isClaimRefusal(err)) {
    if (err.reason === 'missing') return clientAuthErrors.invalidClient(`assertion has no ${err.claim} claim`);
    if (err.reason === 'invalid')
      return clientAuthErrors.invalidClient('assertion exp, nbf or iat is not a NumericDate');
    return clientAuthErrors.invalidClient(CLAIM_REFUSALS[err.claim] ?? `assertion: ${err.message}`);
  }
  if (isMalformed(err)) return clientAuthErrors.invalidClient(`assertion: ${err.message}`);
  // Anything else (no fitting key, a key jose cannot use, a wrong signature) means not signed by the client.
  return clientAuthErrors.invalidClient(NOT_SIGNED_BY_CLIENT);
}

/** What jose leaves to the caller: finite dates, Auth0's lifetime and claim-length limits, iat not in the future. */
function checkAuth0Limits(client: ClientEntity, claims: JWTPayload, nowSeconds: number): { jti: string; exp: number } {
  const { exp, nbf, iat, jti } = claims;
  // RFC 7519 §2: a NumericDate is a finite number (JSON allows 1e400, which parses to Infinity).
  if (!isNumericDate(exp) || ![nbf, iat].every((date) => date === undefined || isNumericDate(date)))
    throw clientAuthErrors.invalidClient('assertion exp, nbf or iat is not a NumericDate');
  if (exp - nowSeconds > MAX_LIFETIME_SECONDS + CLOCK_TOLERANCE_SECONDS)
    throw clientAuthErrors.invalidClient('assertion lifetime exceeds 5 minutes');
  if (iat !== undefined && iat > nowSeconds + CLOCK_TOLERANCE_SECONDS)
    throw clientAuthErrors.invalidClient('assertion iat is in the future');
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_CLAIM_LENGTH)
    throw clientAuthErrors.invalidClient('jti missing or too long');
  if (client.clientId.length > MAX_CLAIM_LENGTH)
    throw clientAuthErrors.invalidClient('client_id too long for an assertion');
  return { jti, exp };
}

const isNumericDate = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
