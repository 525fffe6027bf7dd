import { Module } from '@nestjs/common';
import { VerificationModule } from '../verification/verification.module';
import { SsoSessionsRepository } from './sso-sessions.repository';
import { SsoSessions } from './sso-sessions.service';

/** Browser login sessions (SSO): created by the hosted login, read by /authorize, ended by logout. */
@Module({
  imports: [VerificationModule],
  providers: [SsoSessionsRepository, SsoSessions],
  exports: [SsoSessionsRepository, SsoSessions],
})
export class SessionsModule {}
