import { Module } from '@nestjs/common';
import { ClientsModule } from '../clients/clients.module';
import { OAuthModule } from '../oauth/oauth.module';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { VerificationModule } from '../verification/verification.module';
import { LegacyVerifyService } from './legacy-verify.service';
import { PasswordlessController } from './passwordless.controller';
import { PasswordlessService } from './passwordless.service';
import { VerifyRedirectService } from './verify-redirect.service';
import { HealthModule } from '../health/health.module';
import { StartAdmission } from './start-admission';
import { DeliveryBacklogMonitor } from '../delivery/delivery-backlog.monitor';

@Module({
  imports: [HealthModule, ClientsModule, VerificationModule, RateLimitModule, OAuthModule],
  controllers: [PasswordlessController],
  providers: [PasswordlessService, LegacyVerifyService, VerifyRedirectService, StartAdmission, DeliveryBacklogMonitor],
  exports: [PasswordlessService],
})
export class PasswordlessModule {}
