import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { DeliveryJobData, QueueName } from './delivery.constants';

export interface OutboxRow {
  verificationId: string;
  queue: QueueName;
  payload: DeliveryJobData;
  live: boolean;
}

@Injectable()
export class OutboxRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The job is on the queue: drop the outbox row and mark the record queued (unless a worker already moved it on). */
  async markEnqueued(verificationId: string, manager: EntityManager = this.dataSource.manager): Promise<void> {
    await manager.query(
      `WITH removed AS (DELETE FROM delivery_outbox WHERE verification_id = $1)
       UPDATE verifications SET delivery_status = 'queued' WHERE id = $1 AND delivery_status = 'pending'`,
      [verificationId],
    );
  }

  /**
   * Locks up to `limit` rows older than `graceMs` (SKIP LOCKED: several API replicas relay without overlap) and hands
   * them to `relay` inside the transaction. `live` is false for records already superseded, consumed or expired, and
   * for records no longer `pending`: their job was enqueued already (maybe even completed and removed, so adding the
   * same job id again would create a second job and a second message).
   */
  async relayBatch(graceMs: number, limit: number, relay: (rows: OutboxRow[], manager: EntityManager) => Promise<void>): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      const rows: Array<{ verification_id: string; queue: QueueName; payload: DeliveryJobData; live: boolean }> = await manager.query(
        `SELECT o.verification_id, o.queue, o.payload,
                (v.delivery_status = 'pending' AND v.consumed_at IS NULL AND v.superseded_at IS NULL AND v.expires_at > now()) AS live
           FROM delivery_outbox o JOIN verifications v ON v.id = o.verification_id
          WHERE o.created_at < now() - make_interval(secs => $1::double precision / 1000)
          ORDER BY o.created_at
          LIMIT $2
          FOR UPDATE OF o SKIP LOCKED`,
        [graceMs, limit],
      );
      await relay(rows.map((r) => ({ verificationId: r.verification_id, queue: r.queue, payload: r.payload, live: r.live })), manager);
      return rows.length;
    });
  }

  async recordRelayFailure(verificationIds: string[], manager: EntityManager): Promise<void> {
    if (verificationIds.length === 0) return;
    await manager.query('UPDATE delivery_outbox SET relay_attempts = relay_attempts + 1 WHERE verification_id = ANY($1)', [verificationIds]);
  }

  async deleteRows(verificationIds: string[], manager: EntityManager): Promise<void> {
    if (verificationIds.length === 0) return;
    await manager.query('DELETE FROM delivery_outbox WHERE verification_id = ANY($1)', [verificationIds]);
  }
}
