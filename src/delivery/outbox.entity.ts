import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { DeliveryJobData, QueueName } from './delivery.constants';

/**
 * Transactional outbox: written in the same transaction as the verification record, deleted once the job is on the
 * queue. If Redis is down when a start commits, the relay enqueues the row later, so a 200 still means delivery.
 */
@Entity({ name: 'delivery_outbox' })
export class OutboxEntity {
  @PrimaryColumn({ name: 'verification_id', type: 'char', length: 24 }) verificationId!: string;
  @Column({ type: 'varchar', length: 16 }) queue!: QueueName;
  @Column({ type: 'jsonb' }) payload!: DeliveryJobData;
  @Column({ name: 'relay_attempts', type: 'int', default: 0 }) relayAttempts!: number;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
