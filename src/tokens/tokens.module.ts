import { Module } from '@nestjs/common';
import { VerificationModule } from '../verification/verification.module';
import { SigningKeyStore } from './signing-key.store';
import { SigningKeysRepository } from './signing-keys.repository';
import { TokenIssuer } from './token-issuer';

@Module({
  imports: [VerificationModule],
  providers: [SigningKeysRepository, SigningKeyStore, TokenIssuer],
  exports: [SigningKeyStore, TokenIssuer],
})
export class TokensModule {}
