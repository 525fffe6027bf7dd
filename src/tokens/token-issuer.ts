import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { createSigner } from 'fast-jwt';
import { jwtVerify, type JWTPayload } from 'jose';
import { Clock } from '../common/clock';
import { RandomSource } from '../common/random.source';
import { AppConfig } from '../config/app-config';
import type { User } from '../users/users.repository';
import { type SigningKey, SigningKeyStore, TOKEN_SIGNING_ALG } from './signing-key.store';
import { tokenErrors } from '../common/auth0-errors';

/** Scopes of OIDC itself (Core §5.4, offline_access §11), granted whatever the audience, as Auth0 does. */
const OIDC_SCOPES = ['openid', 'profile', 'email', 'address', 'phone'];

/** RFC 9068 access-token type: resource servers (and /userinfo) can tell an access token from an id_token. */
const ACCESS_TOKEN_TYP = 'at+jwt';

export interface TokenRequest {
  clientId: string;
  user: User;
  /** Space-separated, as requested. */
  scope: string;
  audience?: string;
  nonce?: string;
  /** The login's time (OIDC Core §2 `auth_time`) and SSO session id (`sid`), for id_tokens of a browser login. */
  authTime?: Date;
  sid?: string;
  /** The authorization code returned beside the id_token (hybrid flows): the id_token carries its `c_hash`. */
  code?: string;
}

export interface TokenResponse {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
}

/** Profile claims of a passwordless user, shared by the id_token and /userinfo. */
export function userClaims(user: User): Record<string, string | boolean> {
  return user.strategy === 'sms'
    ? { phone_number: user.identifier, phone_verified: user.verified }
    : { email: user.identifier, email_verified: user.verified };
}

type Signer = (claims: JWTPayload) => string;

/**
 * Issues RS256 access and id tokens; refresh tokens are the refresh-tokens feature's (see OfflineAccess). fast-jwt
 * signs on the calling thread with node:crypto (decision 044); jose's WebCrypto path queues each signature to
 * libuv's thread pool.
 */
@Injectable()
export class TokenIssuer {
  /** One signer per key and token type: fast-jwt parses the private key when the signer is made. */
  private readonly signers = new WeakMap<SigningKey, { access: Signer; id: Signer }>();

  constructor(
    private readonly keys: SigningKeyStore,
    private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly random: RandomSource,
  ) {}

  get userinfoAudience(): string {
    return `${this.config.issuerBaseUrl}userinfo`;
  }

  /** Auth0 answers an unregistered API identifier this way; checked before any code is spent. */
  checkAudience(audience: string | undefined): void {
    if (audience !== undefined && audience !== this.userinfoAudience && !this.config.tokens.apis.has(audience)) {
      throw tokenErrors.serviceNotFound(audience);
    }
  }

  /**
   * Scope as granted, as Auth0 grants it: the OIDC scopes requested, plus those requested that the API named by
   * `audience` defines; anything else is dropped, duplicates too. offline_access is removed here (OfflineAccess adds
   * it back where it applies).
   */
  grantedScope(requested: string | undefined, audience: string | undefined): string {
    const apiScopes = (audience !== undefined && this.config.tokens.apis.get(audience)) || [];
    const scopes = (requested ?? '').split(' ').filter((s) => OIDC_SCOPES.includes(s) || apiScopes.includes(s));
    return [...new Set(scopes)].join(' ');
  }

  issue(request: TokenRequest): TokenResponse {
    const key = this.keys.activeKey();
    const now = Math.floor(this.clock.now().getTime() / 1000);
    const { accessTokenTtl, idTokenTtl } = this.config.tokens;
    const scopes = request.scope.split(' ');
    const audience =
      request.audience && request.audience !== this.userinfoAudience
        ? [request.audience, this.userinfoAudience]
        : this.userinfoAudience;
    /** RFC 7519 §4.1's registered claims both tokens carry. */
    const registered = (aud: string | string[], ttl: number) => ({
      iss: this.config.issuerBaseUrl,
      sub: request.user.userId,
      aud,
      iat: now,
      exp: now + ttl,
    });
    // RFC 9068 §2.2: client_id and jti beside Auth0's azp; jti lets a resource server detect a replayed token.
    const signers = this.signersOf(key);
    const accessToken = signers.access({
      ...registered(audience, accessTokenTtl),
      scope: request.scope,
      azp: request.clientId,
      client_id: request.clientId,
      jti: this.random.token(16),
    });
    const response: TokenResponse = {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: accessTokenTtl,
      scope: request.scope,
    };
    if (scopes.includes('openid')) {
      const claims: JWTPayload = {
        ...registered(request.clientId, idTokenTtl),
        ...userClaims(request.user),
        azp: request.clientId,
        at_hash: leftHalfHash(accessToken),
      };
      // OIDC Core §3.3.2.11: an id_token issued with a code in the same response binds it by its hash.
      if (request.code !== undefined) claims.c_hash = leftHalfHash(request.code);
      if (request.nonce !== undefined) claims.nonce = request.nonce;
      if (request.authTime !== undefined) claims.auth_time = Math.floor(request.authTime.getTime() / 1000);
      if (request.sid !== undefined) claims.sid = request.sid;
      response.id_token = signers.id(claims);
    }
    return response;
  }

  private signersOf(key: SigningKey): { access: Signer; id: Signer } {
    let signers = this.signers.get(key);
    if (!signers) {
      const pem = key.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
      const signer = (typ: string): Signer =>
        createSigner({ key: pem, algorithm: TOKEN_SIGNING_ALG, kid: key.kid, header: { alg: TOKEN_SIGNING_ALG, typ } });
      signers = { access: signer(ACCESS_TOKEN_TYP), id: signer('JWT') };
      this.signers.set(key, signers);
    }
    return signers;
  }

  /** Verifies an access token for /userinfo and returns its subject; undefined unless it is a live token of ours. */
  async verifyAccessToken(token: string): Promise<string | undefined> {
    try {
      const { payload } = await jwtVerify(
        token,
        (header) => this.keys.findPublicKey(header.kid) ?? Promise.reject(new Error('unknown kid')),
        {
          algorithms: [TOKEN_SIGNING_ALG],
          typ: ACCESS_TOKEN_TYP,
          issuer: this.config.issuerBaseUrl,
          audience: this.userinfoAudience,
          currentDate: this.clock.now(),
          requiredClaims: ['sub', 'exp'],
        },
      );
      return payload.sub;
    } catch {
      return undefined;
    }
  }
}

/** OIDC Core §3.2.2.9 and §3.3.2.11 (at_hash, c_hash): base64url of the left half of the SHA-256 of the value. */
function leftHalfHash(value: string): string {
  const digest = createHash('sha256').update(value).digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}
