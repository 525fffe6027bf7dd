import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool, QueryResultRow } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import type { ConnectionTemplates } from '../../verification/connection.entity';
import type { SendMode } from '../../verification/verification.entity';
import type { DeliveryTarget } from './delivery-channel';

export type SkipReason = 'missing' | 'sent' | 'superseded' | 'consumed' | 'expired';

export type DeliveryStart = { skip: SkipReason } | { skip: null; target: DeliveryTarget };

/** One attempt as logged in delivery_attempts (never the code or the link). */
export interface AttemptLog {
  verificationId: string;
  queue: string;
  attempt: number;
  provider: string;
  startedAt: Date;
}

interface TargetRow {
  id: string;
  client_id: string;
  client_name: string;
  connection: string;
  sender: string;
  templates: ConnectionTemplates;
  identifier: string;
  send: SendMode;
  request_language: string | null;
  auth_params: Record<string, string>;
  skip: SkipReason | null;
}

/**
 * The worker's side of the verifications table and the delivery_attempts log. Two round trips per job: a read of
 * the record, and one write that records the outcome on the record and logs the attempt together. (An attempt whose
 * worker died mid-send leaves no row; BullMQ retries it and the next row's `attempt` number shows the gap.)
 */
@Injectable()
export class DeliveryAttemptsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * These statements run for every message, so they go straight to the pg pool as named prepared statements: Postgres
   * parses and plans each once per connection, and TypeORM's per-query runner is skipped (worker throughput, bench/).
   */
  private async run<T extends QueryResultRow>(name: string, text: string, values: unknown[]): Promise<T[]> {
    const pool = (this.dataSource.driver as PostgresDriver).master as Pool;
    return (await pool.query<T>({ name, text, values })).rows;
  }

  /** Loads the record with its connection and client, and whether it should be skipped instead of sent. */
  async begin(verificationId: string, now: Date): Promise<DeliveryStart> {
    const rows = await this.run<TargetRow>(
      'delivery_begin',
      `SELECT v.id, v.client_id, cl.name AS client_name, v.connection, c.sender, c.templates, v.identifier, v.send,
              v.request_language, v.auth_params,
              CASE WHEN v.delivery_status = 'sent' THEN 'sent'
                   WHEN v.superseded_at IS NOT NULL THEN 'superseded'
                   WHEN v.consumed_at IS NOT NULL THEN 'consumed'
                   WHEN v.expires_at <= $2 THEN 'expired' END AS skip
         FROM verifications v
         JOIN connections c ON c.name = v.connection
         JOIN clients cl ON cl.client_id = v.client_id
        WHERE v.id = $1`,
      [verificationId, now],
    );
    const row = rows[0];
    if (!row) return { skip: 'missing' };
    if (row.skip) return { skip: row.skip };
    return {
      skip: null,
      target: {
        verificationId: row.id,
        clientId: row.client_id,
        applicationName: row.client_name,
        connection: row.connection,
        sender: row.sender,
        templates: row.templates,
        identifier: row.identifier,
        send: row.send,
        requestLanguage: row.request_language,
        authParams: row.auth_params,
      },
    };
  }

  /**
   * Marks the record sent unless another delivery already did (the `<> 'sent'` guard makes the transition atomic);
   * returns false in that case, and the attempt is logged as a duplicate.
   */
  async succeed(log: AttemptLog, providerMessageId: string | null, now: Date): Promise<boolean> {
    const rows = await this.run<{ outcome: string }>(
      'delivery_succeed',
      `WITH record AS (
         UPDATE verifications SET delivery_status = 'sent', delivered_at = $7, provider_message_id = $6
          WHERE id = $1 AND delivery_status <> 'sent' RETURNING id)
       INSERT INTO delivery_attempts (verification_id, queue, attempt, provider, started_at, finished_at, provider_message_id, outcome)
       VALUES ($1, $2, $3, $4, $5, $7, $6, CASE WHEN EXISTS (SELECT 1 FROM record) THEN 'sent' ELSE 'duplicate' END)
       RETURNING outcome`,
      [log.verificationId, log.queue, log.attempt, log.provider, log.startedAt, providerMessageId, now],
    );
    return rows[0]?.outcome === 'sent';
  }

  /** Logs a failed attempt; when it was the last one the record becomes `failed` (never overwriting `sent`). */
  async fail(log: AttemptLog, error: string, final: boolean, now: Date): Promise<void> {
    await this.run(
      'delivery_fail',
      `WITH record AS (
         UPDATE verifications SET delivery_status = 'failed' WHERE id = $1 AND $8::boolean AND delivery_status <> 'sent')
       INSERT INTO delivery_attempts (verification_id, queue, attempt, provider, started_at, finished_at, error, outcome)
       VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $8::boolean THEN 'failed' ELSE 'retry' END)`,
      [log.verificationId, log.queue, log.attempt, log.provider, log.startedAt, now, error, final],
    );
  }

  /** The job ended in the failed set by a path that did not record it (stalled too often, an error before sending). */
  async markFailed(verificationId: string): Promise<void> {
    await this.run('delivery_mark_failed', "UPDATE verifications SET delivery_status = 'failed' WHERE id = $1 AND delivery_status IN ('pending', 'queued')", [
      verificationId,
    ]);
  }
}
