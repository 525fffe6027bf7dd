import { Injectable } from '@nestjs/common';
import type { ClientEntity } from '../../clients/client.entity';
import { OFFLINE_ACCESS, RefreshTokensService } from '../../refresh-tokens/refresh-tokens.service';
import { TokenIssuer, type TokenRequest, type TokenResponse } from '../../tokens/token-issuer';

/**
 * `offline_access` (OIDC Core §11): a refresh token is issued only when it is requested and the client has the
 * refresh_token grant; otherwise the scope is dropped from what is granted, as Auth0 does.
 */
@Injectable()
export class OfflineAccess {
  constructor(
    private readonly issuer: TokenIssuer,
    private readonly refreshTokens: RefreshTokensService,
  ) {}

  /** The scope as granted (TokenIssuer.grantedScope); offline_access only for a client with the refresh_token grant. */
  grantedScope(client: ClientEntity, requested: string | undefined, audience: string | undefined): string {
    const scope = this.issuer.grantedScope(requested, audience);
    const offline =
      client.grantTypes.includes('refresh_token') && (requested ?? '').split(' ').includes(OFFLINE_ACCESS);
    return offline ? (scope === '' ? OFFLINE_ACCESS : `${scope} ${OFFLINE_ACCESS}`) : scope;
  }

  /** Signs the tokens and, when offline_access was granted, starts a refresh-token family. */
  async issue(request: TokenRequest & { authorizationCodeHmac?: string }): Promise<TokenResponse> {
    const response = this.issuer.issue(request);
    if (request.scope.split(' ').includes(OFFLINE_ACCESS)) {
      response.refresh_token = await this.refreshTokens.issue({
        clientId: request.clientId,
        userId: request.user.userId,
        scope: request.scope,
        audience: request.audience,
        authorizationCodeHmac: request.authorizationCodeHmac,
        authTime: request.authTime,
        sid: request.sid,
      });
    }
    return response;
  }
}
