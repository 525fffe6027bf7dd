import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { DeliveryJobData, QueueName } from './delivery.constants';

export interface OutboxRow {
  verificationId: string;
  queue: QueueName;
  payload: DeliveryJobData;
  /** False for records superseded, consumed, expired or no longer `pending`: nothing to send any more. */
  live: boolean;
}

@Injectable()
export class OutboxRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Rows waiting per queue and the age of the oldest (metrics, read when scraped). */
  async backlog(): Promise<Array<{ queue: QueueName; rows: number; oldestSeconds: number }>> {
    const rows: Array<{ queue: QueueName; rows: number; oldest_seconds: number }> = await this.dataSource.query(
      `SELECT queue, count(*)::int AS rows, extract(epoch FROM now() - min(created_at))::float8 AS oldest_seconds
         FROM delivery_outbox GROUP BY queue`,
    );
    return rows.map((r) => ({ queue: r.queue, rows: r.rows, oldestSeconds: Math.max(0, r.oldest_seconds) }));
  }

  /**
   * Takes up to `limit` of the oldest rows out of the outbox and hands them to `publish` inside the transaction, each
   * flagged live or not: if `publish` throws, the transaction rolls back and the rows stay for a later pass.
   * SKIP LOCKED lets several relays run at once without waiting on or duplicating each other. Returns the number of
   * rows taken.
   *
   * The records are not written: a record stays `pending` until a worker settles it (`sent` or `failed`), and whether
   * its job is still in the outbox or already on the queue is this table's business (a row here = not yet relayed).
   * Marking them would cost an UPDATE per start
   * (docs/decisions/007-records-stay-pending-until-a-worker-settles-them.md).
   *
   * A row can come back after its job was published (the COMMIT failed after `publish` succeeded). That is safe: the
   * job id is deterministic, so a job still on the queue or running is not added twice, and a job the worker already
   * finished left its record `sent` or `failed` (or the record stopped being live), so the row is dropped as not live.
   */
  async takeBatch(limit: number, publish: (rows: OutboxRow[]) => Promise<void>): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      // Both lookups go through primary keys (`= ANY(ARRAY(…))` is planned as an index scan whatever the statistics
      // say; a join here was planned as a hash join over the whole verifications table while it was young or freshly
      // emptied), and `coalesce(…) IS NULL` keeps the planner from walking the partial index on live records instead.
      // The check takes no row lock: a record a concurrent start supersedes a moment later may still be published, and
      // the worker skips it (it re-checks every record before sending).
      const rows: Array<{ verification_id: string; queue: QueueName; payload: DeliveryJobData; live: boolean }> =
        await manager.query(
          `WITH taken AS (
           DELETE FROM delivery_outbox
            WHERE verification_id = ANY (ARRAY(SELECT verification_id FROM delivery_outbox ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED))
           RETURNING verification_id, queue, payload),
         live AS (
           SELECT id FROM verifications
            WHERE id = ANY (ARRAY(SELECT verification_id FROM taken))
              AND delivery_status = 'pending' AND coalesce(consumed_at, superseded_at) IS NULL AND expires_at > now())
         SELECT verification_id, queue, payload, verification_id IN (SELECT id FROM live) AS live FROM taken`,
          [limit],
        );
      if (rows.length > 0) {
        await publish(
          rows.map((r) => ({ verificationId: r.verification_id, queue: r.queue, payload: r.payload, live: r.live })),
        );
      }
      return rows.length;
    });
  }

  /** Counts a failed publish on rows that stay in the outbox (an operator can see a Redis outage piling up). */
  async recordRelayFailure(verificationIds: string[]): Promise<void> {
    if (verificationIds.length === 0) return;
    await this.dataSource.query(
      'UPDATE delivery_outbox SET relay_attempts = relay_attempts + 1 WHERE verification_id = ANY($1)',
      [verificationIds],
    );
  }
}
