import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AssertionReplayStore } from './assertion-replay.store';
import { ClientAssertionVerifier } from './client-assertion.verifier';
import { ClientAuthGuard } from './client-auth.guard';
import { ClientAuthenticator } from './client-authenticator';
import { ClientEntity } from './client.entity';
import { ClientsRepository } from './clients.repository';

@Module({
  imports: [TypeOrmModule.forFeature([ClientEntity])],
  providers: [ClientsRepository, AssertionReplayStore, ClientAssertionVerifier, ClientAuthenticator, ClientAuthGuard],
  exports: [ClientsRepository, ClientAuthenticator, ClientAuthGuard],
})
export class ClientsModule {}
