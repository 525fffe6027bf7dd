import { Module } from '@nestjs/common';
import { ClientsModule } from '../clients/clients.module';
import { DeliveryProducerModule } from '../delivery/delivery-producer.module';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { VerificationModule } from '../verification/verification.module';
import { PasswordlessController } from './passwordless.controller';
import { PasswordlessService } from './passwordless.service';

@Module({
  imports: [ClientsModule, VerificationModule, DeliveryProducerModule, RateLimitModule],
  controllers: [PasswordlessController],
  providers: [PasswordlessService],
})
export class PasswordlessModule {}
