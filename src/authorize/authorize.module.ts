import { Module } from '@nestjs/common';
import { ClientsModule } from '../clients/clients.module';
import { OAuthModule } from '../oauth/oauth.module';
import { PasswordlessModule } from '../passwordless/passwordless.module';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { SessionsModule } from '../sessions/sessions.module';
import { VerificationModule } from '../verification/verification.module';
import { AuthorizeRequestParser } from './authorize-request';
import { AuthorizeRetention } from './authorize-retention';
import { AuthorizeTransactions } from './authorize-transaction';
import { AuthorizeController } from './authorize.controller';
import { AuthorizeService } from './authorize.service';
import { CrossOriginLoginService } from './cross-origin-login.service';
import { HostedLoginService } from './hosted-login.service';
import { LoginTicketsRepository } from './login-tickets.repository';

/** GET /authorize, the hosted passwordless page, SSO and silent authentication, and /co/authenticate. */
@Module({
  imports: [ClientsModule, VerificationModule, RateLimitModule, OAuthModule, PasswordlessModule, SessionsModule],
  controllers: [AuthorizeController],
  providers: [
    AuthorizeRequestParser,
    AuthorizeTransactions,
    AuthorizeService,
    HostedLoginService,
    CrossOriginLoginService,
    LoginTicketsRepository,
    AuthorizeRetention,
  ],
})
export class AuthorizeModule {}
