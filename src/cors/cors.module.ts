import { Module } from '@nestjs/common';
import { ClientsModule } from '../clients/clients.module';
import { CorsPolicy } from './cors-policy';

@Module({ imports: [ClientsModule], providers: [CorsPolicy], exports: [CorsPolicy] })
export class CorsModule {}
