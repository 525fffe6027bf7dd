import { Body, Controller, Get, Header, Headers, HttpCode, Post } from '@nestjs/common';
import { AuthenticateClient, CurrentClient } from '../clients/client-auth.guard';
import type { ClientEntity } from '../clients/client.entity';
import { AppConfig } from '../config/app-config';
import { EndUserIp } from '../clients/end-user-ip';
import { SigningKeyStore } from '../tokens/signing-key.store';
import type { TokenResponse } from '../tokens/token-issuer';
import { openidConfiguration } from './discovery';
import { TokenService } from './token.service';
import { UserinfoService } from './userinfo.service';

@Controller()
export class OAuthController {
  constructor(
    private readonly tokens: TokenService,
    private readonly userinfoService: UserinfoService,
    private readonly keys: SigningKeyStore,
    private readonly config: AppConfig,
  ) {}

  /** RFC 6749 §5.1: token responses must not be cached. */
  @Post('oauth/token')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  @AuthenticateClient('oauth')
  token(@CurrentClient() client: ClientEntity, @Body() body: unknown, @EndUserIp() ip: string): Promise<TokenResponse> {
    return this.tokens.exchange(client, body, ip);
  }

  @Get('userinfo')
  @Header('Cache-Control', 'no-store')
  userinfo(@Headers('authorization') authorization: string | undefined): Promise<Record<string, string | boolean>> {
    return this.userinfoService.userinfo(authorization);
  }

  @Get('.well-known/jwks.json')
  @Header('Cache-Control', 'public, max-age=300')
  jwks(): ReturnType<SigningKeyStore['jwks']> {
    return this.keys.jwks();
  }

  @Get('.well-known/openid-configuration')
  @Header('Cache-Control', 'public, max-age=300')
  openidConfiguration(): Record<string, unknown> {
    return openidConfiguration(this.config.issuerBaseUrl);
  }
}
