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
