import { Module } from '@nestjs/common';
import { ClientsModule } from '../clients/clients.module';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { TokensModule } from '../tokens/tokens.module';
import { UsersModule } from '../users/users.module';
import { VerificationModule } from '../verification/verification.module';
import { AuthorizationCodesRepository } from './authorization-codes.repository';
import { OAuthController } from './oauth.controller';
import { PasswordlessLoginService } from './passwordless-login.service';
import { TokenService } from './token.service';
import { UserinfoService } from './userinfo.service';

@Module({
  imports: [ClientsModule, VerificationModule, UsersModule, TokensModule, RateLimitModule],
  controllers: [OAuthController],
  providers: [AuthorizationCodesRepository, PasswordlessLoginService, TokenService, UserinfoService],
  exports: [AuthorizationCodesRepository, PasswordlessLoginService, TokensModule, UsersModule],
})
export class OAuthModule {}
