import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/app-config';
import { QueueName } from './delivery.constants';
import { DeliveryQueue } from './delivery.queue';
import { OutboxEntity } from './outbox.entity';
import { OutboxRelay } from './outbox.relay';
import { OutboxRepository } from './outbox.repository';

/** The queue producer, the outbox and its relay: run in the API's relay thread (OutboxRelayHost). Workers have their own module. */
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [AppConfig],
      // Producers fail fast when Redis is unreachable (no offline queue); the outbox relay retries later.
      useFactory: (config: AppConfig) => ({
        prefix: config.redis.prefix,
        connection: { url: config.redis.url, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000 },
      }),
    }),
    BullModule.registerQueue({ name: QueueName.Email }, { name: QueueName.Sms }),
    TypeOrmModule.forFeature([OutboxEntity]),
  ],
  providers: [DeliveryQueue, OutboxRepository, OutboxRelay],
  exports: [DeliveryQueue, OutboxRepository, OutboxRelay],
})
export class DeliveryProducerModule {}
