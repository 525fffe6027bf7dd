import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { Clock } from '../../common/clock';
import { constantTimeEqual } from '../../common/constant-time';
import type { ClientEntity } from '../../clients/client.entity';
import { RefreshTokensService } from '../../refresh-tokens/refresh-tokens.service';
import type { TokenResponse } from '../../tokens/token-issuer';
import { UsersRepository } from '../../users/users.repository';
import { SecretHasher } from '../../verification/secret-hasher';
import { AuthorizationCodesRepository } from '../authorization-codes.repository';
import { requiredParam, stringParam, type Params } from '../oauth-params';
import { PasswordlessLoginService } from '../passwordless-login.service';
import { OfflineAccess } from './offline-access';
import type { TokenGrant } from './token-grant';
import { tokenErrors } from '../../common/auth0-errors';

/** RFC 7636 §4.1: 43 to 128 unreserved characters. */
const CODE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

/** RFC 6749 §4.1.3 with PKCE (RFC 7636): the code of the magic-link flow. */
@Injectable()
export class AuthorizationCodeGrant implements TokenGrant {
  readonly grantType = 'authorization_code';

  constructor(
    private readonly login: PasswordlessLoginService,
    private readonly codes: AuthorizationCodesRepository,
    private readonly users: UsersRepository,
    private readonly hasher: SecretHasher,
    private readonly clock: Clock,
    private readonly offline: OfflineAccess,
    private readonly refreshTokens: RefreshTokensService,
  ) {}

  /** Checks come before the atomic consume, so a failed attempt spends nothing. */
  async exchange(client: ClientEntity, params: Params): Promise<TokenResponse> {
    this.login.requireGrant(client, 'authorization_code');
    const code = requiredParam(params, 'code');
    const redirectUri = stringParam(params, 'redirect_uri');
    const verifier = stringParam(params, 'code_verifier');
    const now = this.clock.now();
    const codeHmac = this.hasher.hash(client.clientId, 'authorization_code', code);
    const grant = await this.codes.findRedeemable(codeHmac, client.clientId, now);
    if (!grant) return this.invalidCode(codeHmac);
    // RFC 6749 §4.1.3: the redirect_uri of the authorization request (always present here) must be repeated.
    if (redirectUri !== grant.redirectUri) throw tokenErrors.invalidRedirectUri();
    if (grant.codeChallenge !== null && !pkceMatches(verifier, grant.codeChallenge)) {
      throw tokenErrors.codeVerifierFailed();
    }
    // RFC 9700 §2.1.1 (PKCE downgrade): a verifier for a code issued without a challenge is refused.
    if (grant.codeChallenge === null && verifier !== undefined) throw tokenErrors.codeVerifierFailed();
    const user = await this.users.findById(grant.userId);
    if (!user || !(await this.codes.consume(codeHmac, now))) return this.invalidCode(codeHmac);
    return this.offline.issue({
      clientId: client.clientId,
      user,
      scope: grant.scope,
      audience: grant.audience ?? undefined,
      nonce: grant.nonce ?? undefined,
      authTime: grant.authTime ?? undefined,
      sid: grant.sid ?? undefined,
      authorizationCodeHmac: codeHmac,
    });
  }

  /**
   * RFC 6749 §4.1.2: a code presented again (or never issued) is refused, and refresh tokens issued from it are
   * revoked. Access tokens are self-contained JWTs and live out their short lifetime.
   */
  private async invalidCode(codeHmac: string): Promise<never> {
    await this.refreshTokens.revokeIssuedFromCode(codeHmac);
    throw tokenErrors.invalidAuthorizationCode();
  }
}

/** S256 only: `plain` would hand the verifier to anyone who saw the authorization request. */
function pkceMatches(verifier: string | undefined, challenge: string): boolean {
  if (verifier === undefined || !CODE_VERIFIER.test(verifier)) return false;
  const actual = Buffer.from(createHash('sha256').update(verifier).digest('base64url'));
  const expected = Buffer.from(challenge);
  return constantTimeEqual(actual, expected);
}
