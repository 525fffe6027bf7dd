import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import type { DeliveryJobData, QueueName } from '../delivery/delivery.constants';
import { VerificationEntity } from './verification.entity';

export type NewVerification = Omit<VerificationEntity, 'failedAttempts' | 'consumedAt' | 'supersededAt' | 'deliveryStatus' | 'createdAt'>;

@Injectable()
export class VerificationsRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectRepository(VerificationEntity) private readonly verifications: Repository<VerificationEntity>,
  ) {}

  /**
   * Atomically (one statement, see the StartVerificationFunction migration): supersede the live record for this
   * client + connection + identifier (Auth0: only the latest code is valid), insert the new record and its outbox
   * row. A transaction-scoped advisory lock on the identifier serialises concurrent starts for it; the partial unique
   * index backs the invariant up.
   */
  async createSupersedingPrevious(record: NewVerification, outbox: { queue: QueueName; payload: DeliveryJobData }, now: Date): Promise<void> {
    await this.dataSource.query('SELECT start_verification($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)', [
      record.id, record.clientId, record.connection, record.identifier, record.send, record.codeHmac, record.linkTokenHmac,
      JSON.stringify(record.authParams), record.requestLanguage, record.expiresAt, record.requestIp, now,
      outbox.queue, JSON.stringify(outbox.payload),
    ]);
  }

  findById(id: string): Promise<VerificationEntity | null> {
    return this.verifications.findOneBy({ id });
  }
}
