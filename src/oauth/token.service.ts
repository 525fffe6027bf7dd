import { Injectable } from '@nestjs/common';
import type { ClientEntity } from '../clients/client.entity';
import type { TokenResponse } from '../tokens/token-issuer';
import { AuthorizationCodeGrant } from './grants/authorization-code.grant';
import { OtpGrant } from './grants/otp.grant';
import { RefreshTokenGrant } from './grants/refresh-token.grant';
import type { TokenGrant } from './grants/token-grant';
import { asParams, requiredParam } from './oauth-params';
import { tokenErrors } from '../common/auth0-errors';

/** POST /oauth/token: one handler per grant_type. A Map, so that `__proto__` or `toString` name no grant. */
@Injectable()
export class TokenService {
  private readonly grants: ReadonlyMap<string, TokenGrant>;

  constructor(otp: OtpGrant, authorizationCode: AuthorizationCodeGrant, refreshToken: RefreshTokenGrant) {
    this.grants = new Map([otp, authorizationCode, refreshToken].map((grant) => [grant.grantType, grant]));
  }

  /** `ip`: the end user's IP, for the failed-attempt limits. */
  exchange(client: ClientEntity, body: unknown, ip: string): Promise<TokenResponse> {
    const params = asParams(body);
    const grantType = requiredParam(params, 'grant_type');
    const grant = this.grants.get(grantType);
    if (!grant) throw tokenErrors.unsupportedGrantType(grantType);
    return grant.exchange(client, params, ip);
  }
}
