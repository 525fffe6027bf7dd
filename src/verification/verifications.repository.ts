import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { affectedRows } from '../database/affected-rows';
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

  /** The latest record for an identifier, if it is still pending (the partial unique index allows at most one). */
  findLive(clientId: string, connection: string, identifier: string): Promise<VerificationEntity | null> {
    return this.verifications
      .createQueryBuilder('v')
      .where('v.client_id = :clientId AND v.connection = :connection AND v.identifier = :identifier', { clientId, connection, identifier })
      .andWhere('v.consumed_at IS NULL AND v.superseded_at IS NULL')
      .getOne();
  }

  /**
   * Counts an attempt before the comparison, in one conditional UPDATE: Postgres re-checks the WHERE clause after
   * waiting for the row lock, so concurrent guesses can never take the counter past `maxAttempts`.
   */
  async reserveAttempt(id: string, maxAttempts: number, now: Date): Promise<boolean> {
    const count = await affectedRows(
      this.dataSource,
      `UPDATE verifications SET failed_attempts = failed_attempts + 1
        WHERE id = $1 AND consumed_at IS NULL AND superseded_at IS NULL AND expires_at > $3 AND failed_attempts < $2`,
      [id, maxAttempts, now],
    );
    return count === 1;
  }

  /** A correct secret: the reserved attempt was not a failure. */
  async refundAttempt(id: string): Promise<void> {
    await this.dataSource.query('UPDATE verifications SET failed_attempts = failed_attempts - 1 WHERE id = $1 AND failed_attempts > 0', [id]);
  }

  /** Single use: only one caller can move consumed_at from NULL, so a code never redeems twice. */
  async consume(id: string, now: Date): Promise<boolean> {
    const count = await affectedRows(
      this.dataSource,
      `UPDATE verifications SET consumed_at = $2, failed_attempts = GREATEST(failed_attempts - 1, 0)
        WHERE id = $1 AND consumed_at IS NULL AND superseded_at IS NULL AND expires_at > $2`,
      [id, now],
    );
    return count === 1;
  }
}
