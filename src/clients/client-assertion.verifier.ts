import { Injectable } from '@nestjs/common';
import type { KeyObject } from 'node:crypto';
import { invalidClient, temporarilyUnavailable } from '../common/api-error';
import { AppConfig } from '../config/app-config';
import { Clock } from '../common/clock';
import { AssertionReplayStore, type ReplayMark } from './assertion-replay.store';
import type { ClientEntity, PublicJwk } from './client.entity';
import {
  importVerificationKey,
  MalformedJwsError,
  parseCompactJws,
  signatureMatches,
  type CompactJws,
  type JsonObject,
  type JwsAlgorithm,
} from './jws-compact';

export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

const MAX_ASSERTION_BYTES = 2048;
const MAX_CLAIM_LENGTH = 64;
const MAX_LIFETIME_SECONDS = 300;
const CLOCK_TOLERANCE_SECONDS = 10;
const REQUIRED_CLAIMS = ['iss', 'sub', 'aud', 'exp', 'jti'];

/**
 * private_key_jwt (RFC 7523, OIDC Core §9) as Auth0 documents it: iss = sub = client_id, aud = the issuer base URL
 * with trailing slash (or the endpoint URL), exp required and at most 5 minutes ahead, jti single-use.
 */
@Injectable()
export class ClientAssertionVerifier {
  private readonly importedKeys = new WeakMap<PublicJwk, Map<JwsAlgorithm, KeyObject | undefined>>();
  private readonly audiencesByEndpoint = new Map<string, string[]>();

  constructor(
    private readonly config: AppConfig,
    private readonly replay: AssertionReplayStore,
    private readonly clock: Clock,
  ) {}

  /**
   * With `deferReplayMark` the jti is handed to the caller instead of recorded here: the caller records it (SET NX) in
   * a Redis call of its own and must answer 401 if it was already there (the start endpoint's limits, PendingIpCharge).
   */
  async verify(
    client: ClientEntity,
    assertion: string,
    endpointPath: string,
    deferReplayMark?: (mark: ReplayMark) => void,
  ): Promise<void> {
    if (Buffer.byteLength(assertion) > MAX_ASSERTION_BYTES) throw invalidClient('assertion exceeds 2048 bytes');
    const jws = parseAssertion(assertion);
    // The signature first: nothing in the claims means anything until the client is known to have made them.
    if (!this.signedByClient(client, jws)) throw invalidClient('signature did not verify with any registered key');
    const nowSeconds = Math.floor(this.clock.now().getTime() / 1000);
    const { jti, exp } = this.checkClaims(client, jws.payload, endpointPath, nowSeconds);

    const ttlMs = (exp - nowSeconds + CLOCK_TOLERANCE_SECONDS) * 1000;
    if (deferReplayMark) return deferReplayMark(this.replay.mark(client.clientId, jti, ttlMs));
    let firstUse: boolean;
    try {
      firstUse = await this.replay.markUsed(client.clientId, jti, ttlMs);
    } catch (err) {
      // Without the replay store we cannot prove single use; refuse rather than accept a possibly replayed assertion.
      throw temporarilyUnavailable(`jti store unavailable: ${(err as Error).message}`);
    }
    if (!firstUse) throw invalidClient('assertion jti replayed');
  }

  /** Auth0's SDKs send no `kid`, so every registered key that fits the algorithm is tried. */
  private signedByClient(client: ClientEntity, jws: CompactJws): boolean {
    const { alg, kid } = jws.header;
    // The key set is admin data (validated by the client migration), read defensively all the same: no 500 from it.
    const keys: unknown[] = Array.isArray(client.jwks?.keys) ? client.jwks.keys : [];
    return keys.some((entry) => {
      if (typeof entry !== 'object' || entry === null) return false;
      const jwk = entry as PublicJwk;
      if ((kid && jwk.kid && jwk.kid !== kid) || (jwk.alg && jwk.alg !== alg) || jwk.use === 'enc') return false;
      const key = this.importKey(jwk, alg);
      return key !== undefined && signatureMatches(jws, key);
    });
  }

  /** RFC 7519 §4.1 and RFC 7523 §3, with Auth0's limits on lifetime and claim length. */
  private checkClaims(
    client: ClientEntity,
    claims: JsonObject,
    endpointPath: string,
    nowSeconds: number,
  ): { jti: string; exp: number } {
    const missing = REQUIRED_CLAIMS.find((claim) => !Object.hasOwn(claims, claim));
    if (missing) throw invalidClient(`assertion has no ${missing} claim`);
    if (claims.iss !== client.clientId) throw invalidClient('assertion iss is not the client_id');
    if (claims.sub !== client.clientId) throw invalidClient('assertion sub is not the client_id');
    const audience = this.acceptedAudiences(endpointPath);
    const aud = claims.aud;
    if (
      !(typeof aud === 'string'
        ? audience.includes(aud)
        : Array.isArray(aud) && audience.some((accepted) => aud.includes(accepted)))
    ) {
      throw invalidClient('assertion aud is not this server');
    }
    const { exp, nbf, iat, jti } = claims;
    if (
      !isNumericDate(exp) ||
      (nbf !== undefined && !isNumericDate(nbf)) ||
      (iat !== undefined && !isNumericDate(iat))
    ) {
      throw invalidClient('assertion exp, nbf or iat is not a NumericDate');
    }
    if (exp <= nowSeconds - CLOCK_TOLERANCE_SECONDS) throw invalidClient('assertion expired');
    if (exp - nowSeconds > MAX_LIFETIME_SECONDS + CLOCK_TOLERANCE_SECONDS)
      throw invalidClient('assertion lifetime exceeds 5 minutes');
    if (nbf !== undefined && nbf > nowSeconds + CLOCK_TOLERANCE_SECONDS)
      throw invalidClient('assertion not valid yet (nbf)');
    if (iat !== undefined && iat > nowSeconds + CLOCK_TOLERANCE_SECONDS)
      throw invalidClient('assertion iat is in the future');
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_CLAIM_LENGTH)
      throw invalidClient('jti missing or too long');
    if (client.clientId.length > MAX_CLAIM_LENGTH) throw invalidClient('client_id too long for an assertion');
    return { jti, exp };
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

  /**
   * Imported keys are kept per JWK object: the client row (and so its JWK objects) is reused while the lookup cache
   * holds it, so a key is parsed once per client refresh instead of on every request; a changed row brings new objects.
   */
  private importKey(jwk: PublicJwk, alg: JwsAlgorithm): KeyObject | undefined {
    let byAlg = this.importedKeys.get(jwk);
    if (!byAlg) this.importedKeys.set(jwk, (byAlg = new Map<JwsAlgorithm, KeyObject | undefined>()));
    if (!byAlg.has(alg)) byAlg.set(alg, importVerificationKey(jwk, alg));
    return byAlg.get(alg);
  }
}

/** Whatever is wrong with the token, the answer is 401 (never a 500 from a crafted header). */
function parseAssertion(assertion: string): CompactJws {
  try {
    return parseCompactJws(assertion);
  } catch (err) {
    throw invalidClient(
      err instanceof MalformedJwsError ? `assertion: ${err.message}` : 'assertion could not be parsed',
    );
  }
}

/** RFC 7519 §2: a JSON number of seconds; a finite one (JSON allows 1e400, which parses to Infinity). */
const isNumericDate = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
