import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { AuthenticateClient, CurrentClient } from '../clients/client-auth.guard';
import type { ClientEntity } from '../clients/client.entity';
import { RefreshTokensService } from '../refresh-tokens/refresh-tokens.service';
import { asParams, requiredParam, stringParam } from './oauth-params';

@Controller('oauth')
export class RevokeController {
  constructor(private readonly refreshTokens: RefreshTokensService) {}

  /**
   * RFC 7009: 200 with an empty body (Auth0's sample response), also for unknown, already revoked or foreign tokens.
   * `token_type_hint` is only a hint (§2.1); only refresh tokens can be revoked, access tokens are self-contained.
   */
  @Post('revoke')
  @HttpCode(200)
  @AuthenticateClient('oauth')
  async revoke(@CurrentClient() client: ClientEntity, @Body() body: unknown): Promise<void> {
    const params = asParams(body);
    const token = requiredParam(params, 'token');
    stringParam(params, 'token_type_hint');
    await this.refreshTokens.revoke(client.clientId, token);
  }
}
