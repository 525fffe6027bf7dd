import { Injectable } from '@nestjs/common';
import type { ClientEntity } from '../clients/client.entity';
import { Clock } from '../common/clock';
import { RandomSource } from '../common/random.source';
import { TokenIssuer } from '../tokens/token-issuer';
import type { User } from '../users/users.repository';
import { SecretHasher } from '../verification/secret-hasher';
import { AuthorizationCodesRepository } from './authorization-codes.repository';
import { OfflineAccess } from './grants/offline-access';

/** RFC 6749 §4.1.2 recommends at most 10 minutes; the code is redeemed right after the redirect. */
const AUTHORIZATION_CODE_TTL_MS = 5 * 60 * 1000;
const AUTHORIZATION_CODE_BYTES = 32;

/** Every response_type an authorization request may ask for (OAuth 2.0 Multiple Response Types §3-5), sorted. */
export const RESPONSE_TYPES = [
  'code',
  'token',
  'id_token',
  'id_token token',
  'code id_token',
  'code token',
  'code id_token token',
];

/** A login that succeeded for an authorization request (magic link, hosted page, login ticket, SSO session). */
export interface AuthorizedRequest {
  client: ClientEntity;
  user: User;
  redirectUri: string;
  /** Sorted response_type words. */
  responseType: string[];
  scope?: string;
  audience?: string;
  nonce?: string;
  codeChallenge?: string;
  authTime?: Date;
  sid?: string;
}

/**
 * The result fields of a successful authorization request: a one-time code (stored as an HMAC bound to the client,
 * redirect_uri, PKCE challenge, nonce and login) and/or tokens for the front channel. Shared by the magic link and
 * /authorize so that both grant the same scope the same way.
 */
@Injectable()
export class AuthorizationResults {
  constructor(
    private readonly issuer: TokenIssuer,
    private readonly offline: OfflineAccess,
    private readonly codes: AuthorizationCodesRepository,
    private readonly hasher: SecretHasher,
    private readonly random: RandomSource,
    private readonly clock: Clock,
  ) {}

  /**
   * The scope as granted: refresh tokens come only from the code exchange, never in a fragment, so only a code keeps
   * offline_access; an id_token response implies openid.
   */
  grantedScope(
    client: ClientEntity,
    responseType: string[],
    requested: string | undefined,
    audience: string | undefined,
  ): string {
    const granted = responseType.includes('code')
      ? this.offline.grantedScope(client, requested, audience)
      : this.issuer.grantedScope(requested, audience);
    const scopes = granted.split(' ').filter(Boolean);
    return (responseType.includes('id_token') && !scopes.includes('openid') ? ['openid', ...scopes] : scopes).join(' ');
  }

  async issue(request: AuthorizedRequest): Promise<Record<string, string>> {
    const scope = this.grantedScope(request.client, request.responseType, request.scope, request.audience);
    const values: Record<string, string> = {};
    if (request.responseType.includes('code')) values.code = await this.issueCode(request, scope);
    const wantsToken = request.responseType.includes('token');
    const wantsIdToken = request.responseType.includes('id_token');
    if (!wantsToken && !wantsIdToken) return values;
    const tokens = this.issuer.issue({
      clientId: request.client.clientId,
      user: request.user,
      scope,
      audience: request.audience,
      nonce: request.nonce,
      authTime: request.authTime,
      sid: request.sid,
      code: values.code,
    });
    if (wantsToken) {
      values.access_token = tokens.access_token;
      values.token_type = tokens.token_type;
      values.expires_in = String(tokens.expires_in);
      values.scope = tokens.scope
        .split(' ')
        .filter((s) => s !== 'offline_access')
        .join(' ');
    }
    if (wantsIdToken && tokens.id_token) values.id_token = tokens.id_token;
    return values;
  }

  private async issueCode(request: AuthorizedRequest, scope: string): Promise<string> {
    const code = this.random.token(AUTHORIZATION_CODE_BYTES);
    const now = this.clock.now();
    await this.codes.create(
      {
        codeHmac: this.hasher.hash(request.client.clientId, 'authorization_code', code),
        clientId: request.client.clientId,
        userId: request.user.userId,
        redirectUri: request.redirectUri,
        scope,
        audience: request.audience ?? null,
        nonce: request.nonce ?? null,
        codeChallenge: request.codeChallenge ?? null,
        expiresAt: new Date(now.getTime() + AUTHORIZATION_CODE_TTL_MS),
        authTime: request.authTime ?? null,
        sid: request.sid ?? null,
      },
      now,
    );
    return code;
  }
}
