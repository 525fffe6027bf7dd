import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { RetentionModule } from '../retention/retention.module';
import { VerificationModule } from '../verification/verification.module';
import { DeliveryReconciler } from './delivery.reconciler';
import { DeliveryQueue } from './delivery.queue';
import { OutboxEntity } from './outbox.entity';
import { OutboxListener } from './outbox.listener';
import { OutboxRelay } from './outbox.relay';
import { OutboxRepository } from './outbox.repository';
import { ReconciliationRepository } from './reconciliation.repository';
import { RelayStatus } from './relay.status';

/**
 * The relay role: moves committed outbox rows to the queues (woken by Postgres notifications and a timer) and
 * reconciles deliveries whose jobs went missing, and runs the retention pass. Runs in `npm run start:relay`
 * processes, or inside worker processes with WORKER_RUN_RELAY=true; any number of replicas may run it.
 */
@Module({
  imports: [TypeOrmModule.forFeature([OutboxEntity]), VerificationModule, RetentionModule],
  providers: [
    DeliveryQueue,
    OutboxRepository,
    OutboxRelay,
    OutboxListener,
    ReconciliationRepository,
    DeliveryReconciler,
    RelayStatus,
  ],
  exports: [RelayStatus, DeliveryQueue, OutboxRelay, DeliveryReconciler],
})
export class RelayModule {}
