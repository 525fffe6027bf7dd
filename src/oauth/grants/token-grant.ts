import type { ClientEntity } from '../../clients/client.entity';
import type { TokenResponse } from '../../tokens/token-issuer';
import type { Params } from '../oauth-params';

/** One `grant_type` of POST /oauth/token (RFC 6749 §4, §6): TokenService dispatches on `grantType`. */
export interface TokenGrant {
  readonly grantType: string;
  /** `ip`: the end user's IP, for failed-attempt limits. */
  exchange(client: ClientEntity, params: Params, ip: string): Promise<TokenResponse>;
}
