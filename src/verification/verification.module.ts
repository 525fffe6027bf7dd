import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ConnectionEntity } from './connection.entity';
import { ConnectionsRepository } from './connections.repository';
import { OtpVerifier } from './otp-verifier';
import { SecretBox } from './secret-box';
import { SecretHasher } from './secret-hasher';
import { VerificationSecrets } from './verification-secrets';
import { VerificationEntity } from './verification.entity';
import { VerificationsRepository } from './verifications.repository';

@Module({
  imports: [TypeOrmModule.forFeature([ConnectionEntity, VerificationEntity])],
  providers: [
    ConnectionsRepository,
    VerificationsRepository,
    SecretBox,
    SecretHasher,
    OtpVerifier,
    VerificationSecrets,
  ],
  exports: [ConnectionsRepository, VerificationsRepository, SecretBox, SecretHasher, OtpVerifier, VerificationSecrets],
})
export class VerificationModule {}
