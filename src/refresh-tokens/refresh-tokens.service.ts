import { Injectable, Logger } from '@nestjs/common';
import { Clock } from '../common/clock';
import { RandomSource } from '../common/random.source';
import { AppConfig } from '../config/app-config';
import { SecretHasher } from '../verification/secret-hasher';
import { RefreshTokensRepository, type StoredToken } from './refresh-tokens.repository';
import { tokenErrors } from '../common/auth0-errors';

/** 256 bits: far above the 128-bit floor for bearer secrets (RFC 6749 §10.10). */
const TOKEN_BYTES = 32;
/** An exchange that lost a race is re-read and decided again (reuse, reuse interval, or a fresh try). */
const MAX_ROTATION_ATTEMPTS = 3;

export const OFFLINE_ACCESS = 'offline_access';

/** Auth0's answer for an unknown, revoked, expired or reused refresh token. */
export const invalidRefreshToken = (detail: string) => tokenErrors.invalidRefreshToken(detail);

export interface IssueRequest {
  clientId: string;
  userId: string;
  scope: string;
  audience?: string;
  authorizationCodeHmac?: string;
  /** The browser login's time and SSO session id, kept for the id_tokens refreshed from this family. */
  authTime?: Date;
  sid?: string;
}

export interface Exchanged {
  refreshToken: string;
  userId: string;
  /** The scope of the family (as first granted). */
  scope: string;
  audience?: string;
  /** The login the family comes from (OpenID Connect Core §12.2: refreshed id_tokens keep its auth_time and sid). */
  authTime?: Date;
  sid?: string;
}

/**
 * Rotating refresh tokens with reuse detection (RFC 9700 §4.14.2, Auth0's refresh token rotation): every exchange
 * issues a new token and retires the presented one; presenting a retired token revokes its whole family, except the
 * immediately previous token within the reuse interval. The absolute lifetime is fixed at issuance; the idle lifetime
 * restarts with each exchange.
 */
@Injectable()
export class RefreshTokensService {
  private readonly logger = new Logger('RefreshTokens');

  constructor(
    private readonly tokens: RefreshTokensRepository,
    private readonly hasher: SecretHasher,
    private readonly random: RandomSource,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  async issue(request: IssueRequest): Promise<string> {
    const token = this.random.token(TOKEN_BYTES);
    const now = this.clock.now();
    const { lifetime, idleLifetime } = this.config.refreshTokens;
    await this.tokens.createFamily({
      tokenHmac: this.hmac(request.clientId, token),
      clientId: request.clientId,
      userId: request.userId,
      scope: request.scope,
      audience: request.audience ?? null,
      authorizationCodeHmac: request.authorizationCodeHmac ?? null,
      authTime: request.authTime ?? null,
      sid: request.sid ?? null,
      familyExpiresAt: new Date(now.getTime() + lifetime * 1000),
      tokenExpiresAt: new Date(now.getTime() + idleLifetime * 1000),
      now,
    });
    return token;
  }

  /**
   * Exchanges a token for its successor. `check` runs on the stored family before anything is spent (a bad `scope`
   * must leave the token usable). Throws Auth0's invalid_grant for anything but a live token.
   */
  async exchange(clientId: string, token: string, check: (family: StoredToken) => void): Promise<Exchanged> {
    const tokenHmac = this.hmac(clientId, token);
    for (let attempt = 0; attempt < MAX_ROTATION_ATTEMPTS; attempt++) {
      const now = this.clock.now();
      const stored = await this.tokens.find(tokenHmac, clientId);
      if (!stored) throw invalidRefreshToken('unknown refresh token');
      if (stored.revokedAt !== null) throw invalidRefreshToken('revoked refresh token family');
      if (stored.tokenExpiresAt <= now || stored.familyExpiresAt <= now)
        throw invalidRefreshToken('expired refresh token');
      if (stored.counter !== stored.latestCounter && !this.withinReuseInterval(stored, now)) {
        await this.tokens.revokeFamily(stored.familyId, now);
        this.logger.warn(
          `Refresh token reuse: family ${stored.familyId} revoked (token ${stored.counter}, latest ${stored.latestCounter})`,
        );
        throw invalidRefreshToken('reused refresh token; family revoked');
      }
      check(stored);
      const next = this.random.token(TOKEN_BYTES);
      const rotated = await this.tokens.rotate({
        familyId: stored.familyId,
        expectedLatest: stored.latestCounter,
        oldTokenHmac: tokenHmac,
        newTokenHmac: this.hmac(clientId, next),
        idleExpiresAt: new Date(now.getTime() + this.config.refreshTokens.idleLifetime * 1000),
        now,
      });
      if (rotated)
        return {
          refreshToken: next,
          userId: stored.userId,
          scope: stored.scope,
          audience: stored.audience ?? undefined,
          authTime: stored.authTime ?? undefined,
          sid: stored.sid ?? undefined,
        };
    }
    throw invalidRefreshToken('refresh token exchange kept losing races');
  }

  /** RFC 7009 §2.2: unknown and foreign tokens are no error. Revokes the whole family (docs/auth0-compatibility.md). */
  async revoke(clientId: string, token: string): Promise<void> {
    await this.tokens.revokeByToken(this.hmac(clientId, token), clientId, this.clock.now());
  }

  /** RFC 6749 §4.1.2: a second redemption of an authorization code revokes the tokens issued from it. */
  async revokeIssuedFromCode(codeHmac: string): Promise<void> {
    await this.tokens.revokeIssuedFromCode(codeHmac, this.clock.now());
  }

  /** Auth0's rotation overlap: only the immediately previous token, only within the interval after its rotation. */
  private withinReuseInterval(stored: StoredToken, now: Date): boolean {
    const interval = this.config.refreshTokens.reuseInterval * 1000;
    return (
      interval > 0 &&
      stored.counter === stored.latestCounter - 1 &&
      stored.rotatedAt !== null &&
      now.getTime() - stored.rotatedAt.getTime() <= interval
    );
  }

  /** Bound to the client: a token presented by another client is unknown. */
  private hmac(clientId: string, token: string): string {
    return this.hasher.hash(clientId, 'refresh_token', token);
  }
}
