import { Injectable } from '@nestjs/common';
import type { ClientEntity } from '../../clients/client.entity';
import { invalidRefreshToken, RefreshTokensService } from '../../refresh-tokens/refresh-tokens.service';
import { TokenIssuer, type TokenResponse } from '../../tokens/token-issuer';
import { UsersRepository } from '../../users/users.repository';
import { requiredParam, stringParam, type Params } from '../oauth-params';
import { PasswordlessLoginService } from '../passwordless-login.service';
import type { TokenGrant } from './token-grant';
import { tokenErrors } from '../../common/auth0-errors';

/**
 * RFC 6749 §6 with rotation: a new access token (and id_token when `openid` was granted, with the original login's
 * auth_time and sid: OpenID Connect Core §12.2) and always a new refresh token. `scope` may narrow the grant, never
 * widen it; the family keeps its original scope.
 */
@Injectable()
export class RefreshTokenGrant implements TokenGrant {
  readonly grantType = 'refresh_token';

  constructor(
    private readonly login: PasswordlessLoginService,
    private readonly refreshTokens: RefreshTokensService,
    private readonly issuer: TokenIssuer,
    private readonly users: UsersRepository,
  ) {}

  async exchange(client: ClientEntity, params: Params): Promise<TokenResponse> {
    this.login.requireGrant(client, 'refresh_token');
    const token = requiredParam(params, 'refresh_token');
    const requested = stringParam(params, 'scope');
    let scope = '';
    const exchanged = await this.refreshTokens.exchange(client.clientId, token, (family) => {
      scope = narrowedScope(requested, family.scope);
    });
    const user = await this.users.findById(exchanged.userId);
    if (!user) throw invalidRefreshToken('the user no longer exists');
    const response = this.issuer.issue({
      clientId: client.clientId,
      user,
      scope,
      audience: exchanged.audience,
      authTime: exchanged.authTime,
      sid: exchanged.sid,
    });
    response.refresh_token = exchanged.refreshToken;
    return response;
  }
}

/** RFC 6749 §6: the requested scope must not include any scope not originally granted. */
function narrowedScope(requested: string | undefined, granted: string): string {
  if (requested === undefined || requested.trim() === '') return granted;
  const grantedScopes = granted.split(' ');
  const scopes = [...new Set(requested.split(' ').filter(Boolean))];
  const extra = scopes.filter((s) => !grantedScopes.includes(s));
  if (extra.length > 0) throw tokenErrors.scopeNotGranted(extra);
  return scopes.join(' ');
}
