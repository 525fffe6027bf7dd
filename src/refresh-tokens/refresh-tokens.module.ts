import { Module } from '@nestjs/common';
import { VerificationModule } from '../verification/verification.module';
import { RefreshTokensRepository } from './refresh-tokens.repository';
import { RefreshTokensService } from './refresh-tokens.service';

@Module({
  imports: [VerificationModule],
  providers: [RefreshTokensRepository, RefreshTokensService],
  exports: [RefreshTokensService],
})
export class RefreshTokensModule {}
