import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import type { DeliveryJobData, QueueName } from '../delivery/delivery.constants';
import { VerificationEntity } from './verification.entity';

export type NewVerification = Omit<VerificationEntity, 'failedAttempts' | 'consumedAt' | 'supersededAt' | 'deliveryStatus' | 'deliveredAt' | 'providerMessageId' | 'createdAt'>;

@Injectable()
export class VerificationsRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectRepository(VerificationEntity) private readonly verifications: Repository<VerificationEntity>,
  ) {}

  /**
   * In one transaction: supersede the live record for this client + connection + identifier (Auth0: only the latest
   * code is valid), insert the new record and its outbox row. A transaction-scoped advisory lock on the identifier
   * serialises concurrent starts for it; the partial unique index backs the invariant up.
   */
  async createSupersedingPrevious(record: NewVerification, outbox: { queue: QueueName; payload: DeliveryJobData }, now: Date): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await manager.query(
        `SELECT pg_advisory_xact_lock(hashtextextended($1 || '|' || $2 || '|' || $3, 0));`,
        [record.clientId, record.connection, record.identifier],
      );
      await manager.query(
        `UPDATE verifications SET superseded_at = $4
          WHERE client_id = $1 AND connection = $2 AND identifier = $3 AND consumed_at IS NULL AND superseded_at IS NULL`,
        [record.clientId, record.connection, record.identifier, now],
      );
      await manager.query(
        `WITH inserted AS (
           INSERT INTO verifications (id, client_id, connection, identifier, send, code_hmac, link_token_hmac, auth_params,
                                      request_language, expires_at, request_ip, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id)
         INSERT INTO delivery_outbox (verification_id, queue, payload, created_at) SELECT id, $13, $14, $12 FROM inserted`,
        [
          record.id, record.clientId, record.connection, record.identifier, record.send, record.codeHmac, record.linkTokenHmac,
          JSON.stringify(record.authParams), record.requestLanguage, record.expiresAt, record.requestIp, now,
          outbox.queue, JSON.stringify(outbox.payload),
        ],
      );
    });
  }

  findById(id: string): Promise<VerificationEntity | null> {
    return this.verifications.findOneBy({ id });
  }
}
