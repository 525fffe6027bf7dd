import { Module } from '@nestjs/common';
import { ClientsModule } from '../clients/clients.module';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { RefreshTokensModule } from '../refresh-tokens/refresh-tokens.module';
import { TokensModule } from '../tokens/tokens.module';
import { UsersModule } from '../users/users.module';
import { VerificationModule } from '../verification/verification.module';
import { AuthorizationCodesRepository } from './authorization-codes.repository';
import { AuthorizationResults } from './authorization-results';
import { AuthorizationCodeGrant } from './grants/authorization-code.grant';
import { OfflineAccess } from './grants/offline-access';
import { OtpGrant } from './grants/otp.grant';
import { RefreshTokenGrant } from './grants/refresh-token.grant';
import { OAuthController } from './oauth.controller';
import { PasswordlessLoginService } from './passwordless-login.service';
import { RevokeController } from './revoke.controller';
import { TokenService } from './token.service';
import { UserinfoService } from './userinfo.service';

@Module({
  imports: [ClientsModule, VerificationModule, UsersModule, TokensModule, RateLimitModule, RefreshTokensModule],
  controllers: [OAuthController, RevokeController],
  providers: [
    AuthorizationCodesRepository,
    AuthorizationResults,
    PasswordlessLoginService,
    OfflineAccess,
    OtpGrant,
    AuthorizationCodeGrant,
    RefreshTokenGrant,
    TokenService,
    UserinfoService,
  ],
  exports: [
    AuthorizationCodesRepository,
    AuthorizationResults,
    PasswordlessLoginService,
    OfflineAccess,
    TokensModule,
    UsersModule,
  ],
})
export class OAuthModule {}
