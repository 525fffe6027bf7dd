import { Injectable } from '@nestjs/common';
import { decodeProtectedHeader, errors as joseErrors, importJWK, jwtVerify, type JWTPayload } from 'jose';
import { ApiError, invalidClient, temporarilyUnavailable } from '../common/api-error';
import { AppConfig } from '../config/app-config';
import { Clock } from '../common/clock';
import { AssertionReplayStore } from './assertion-replay.store';
import type { ClientEntity, PublicJwk } from './client.entity';

export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Auth0 accepts RS256, RS384 and PS256 for Private Key JWT; ES256 is added. Never HS* or none (RFC 7523 §3). */
export const ASSERTION_ALGORITHMS = ['RS256', 'RS384', 'PS256', 'ES256'];
const MAX_ASSERTION_BYTES = 2048;
const MAX_CLAIM_LENGTH = 64;
const MAX_LIFETIME_SECONDS = 300;
const CLOCK_TOLERANCE_SECONDS = 10;

/**
 * private_key_jwt (RFC 7523, OIDC Core §9) as Auth0 documents it: iss = sub = client_id, aud = the issuer base URL
 * with trailing slash (or the endpoint URL), exp required and at most 5 minutes ahead, jti single-use.
 */
@Injectable()
export class ClientAssertionVerifier {
  constructor(
    private readonly config: AppConfig,
    private readonly replay: AssertionReplayStore,
    private readonly clock: Clock,
  ) {}

  async verify(client: ClientEntity, assertion: string, endpointPath: string): Promise<void> {
    if (Buffer.byteLength(assertion) > MAX_ASSERTION_BYTES) throw invalidClient('assertion exceeds 2048 bytes');
    const header = this.safeHeader(assertion);
    if (!header.alg || !ASSERTION_ALGORITHMS.includes(header.alg)) throw invalidClient(`alg ${String(header.alg)} not allowed`);

    const payload = await this.verifyWithAnyKey(client, assertion, header.alg, header.kid, endpointPath);
    const nowSeconds = Math.floor(this.clock.now().getTime() / 1000);
    const exp = payload.exp as number;
    if (typeof payload.iat === 'number' && payload.iat > nowSeconds + CLOCK_TOLERANCE_SECONDS) throw invalidClient('assertion iat is in the future');
    if (exp - nowSeconds > MAX_LIFETIME_SECONDS + CLOCK_TOLERANCE_SECONDS) throw invalidClient('assertion lifetime exceeds 5 minutes');
    const jti = payload.jti;
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_CLAIM_LENGTH) throw invalidClient('jti missing or too long');
    if (client.clientId.length > MAX_CLAIM_LENGTH) throw invalidClient('client_id too long for an assertion');

    const ttlMs = (exp - nowSeconds + CLOCK_TOLERANCE_SECONDS) * 1000;
    let firstUse: boolean;
    try {
      firstUse = await this.replay.markUsed(client.clientId, jti, ttlMs);
    } catch (err) {
      // Without the replay store we cannot prove single use; refuse rather than accept a possibly replayed assertion.
      throw temporarilyUnavailable(`jti store unavailable: ${(err as Error).message}`);
    }
    if (!firstUse) throw invalidClient('assertion jti replayed');
  }

  private safeHeader(assertion: string): { alg?: string; kid?: string } {
    try {
      return decodeProtectedHeader(assertion);
    } catch {
      throw invalidClient('assertion is not a JWS');
    }
  }

  /** Auth0's SDKs send no `kid`, so every registered key that fits the algorithm is tried. */
  private async verifyWithAnyKey(client: ClientEntity, assertion: string, alg: string, kid: string | undefined, endpointPath: string): Promise<JWTPayload> {
    const candidates = (client.jwks?.keys ?? []).filter((jwk) => (!kid || !jwk.kid || jwk.kid === kid) && (!jwk.alg || jwk.alg === alg) && jwk.use !== 'enc');
    const audience = [this.config.issuerBaseUrl, new URL(endpointPath.replace(/^\//, ''), this.config.issuerBaseUrl).toString()];
    let lastReason = 'no usable key';
    for (const jwk of candidates) {
      const key = await this.importKey(jwk, alg);
      if (!key) continue;
      try {
        const { payload } = await jwtVerify(assertion, key, {
          algorithms: [alg],
          issuer: client.clientId,
          subject: client.clientId,
          audience,
          requiredClaims: ['exp', 'jti', 'iss', 'sub', 'aud'],
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
          currentDate: this.clock.now(),
        });
        return payload;
      } catch (err) {
        if (err instanceof joseErrors.JWSSignatureVerificationFailed) continue;
        if (err instanceof ApiError) throw err;
        lastReason = err instanceof joseErrors.JOSEError ? `${err.code}: ${err.message}` : 'verification failed';
        throw invalidClient(lastReason);
      }
    }
    throw invalidClient(`signature did not verify with any registered key (${lastReason})`);
  }

  private async importKey(jwk: PublicJwk, alg: string) {
    try {
      const { d: _private, ...publicPart } = jwk; // only ever use the public half, even if a private JWK was registered
      return await importJWK(publicPart as Parameters<typeof importJWK>[0], alg);
    } catch {
      return undefined;
    }
  }
}
