import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { ConnectionTemplates } from '../../verification/connection.entity';
import type { SendMode } from '../../verification/verification.entity';
import type { DeliveryTarget } from './delivery-channel';

export type SkipReason = 'missing' | 'sent' | 'superseded' | 'consumed' | 'expired';

export type DeliveryStart = { skip: SkipReason } | { skip: null; target: DeliveryTarget; attemptId: string };

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
  attempt_id: string | null;
}

/**
 * The worker's side of the verifications table and the delivery_attempts log. Two round trips per job: one to load
 * the record and open an attempt, one to record the outcome.
 */
@Injectable()
export class DeliveryAttemptsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Loads the record with its connection and client; opens an attempt row only when the record still needs sending. */
  async begin(verificationId: string, queue: string, attempt: number, provider: string, now: Date): Promise<DeliveryStart> {
    const rows: TargetRow[] = await this.dataSource.query(
      `WITH target AS (
         SELECT v.id, v.client_id, cl.name AS client_name, v.connection, c.sender, c.templates, v.identifier, v.send,
                v.request_language, v.auth_params,
                CASE WHEN v.delivery_status = 'sent' THEN 'sent'
                     WHEN v.superseded_at IS NOT NULL THEN 'superseded'
                     WHEN v.consumed_at IS NOT NULL THEN 'consumed'
                     WHEN v.expires_at <= $2 THEN 'expired' END AS skip
           FROM verifications v
           JOIN connections c ON c.name = v.connection
           JOIN clients cl ON cl.client_id = v.client_id
          WHERE v.id = $1),
       attempt AS (
         INSERT INTO delivery_attempts (verification_id, queue, attempt, provider, outcome, started_at)
         SELECT id, $3, $4, $5, 'started', $2 FROM target WHERE skip IS NULL
         RETURNING id)
       SELECT target.*, (SELECT id FROM attempt) AS attempt_id FROM target`,
      [verificationId, now, queue, attempt, provider],
    );
    const row = rows[0];
    if (!row) return { skip: 'missing' };
    if (row.skip || !row.attempt_id) return { skip: row.skip ?? 'missing' };
    return {
      skip: null,
      attemptId: row.attempt_id,
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
  async succeed(verificationId: string, attemptId: string, providerMessageId: string | null, now: Date): Promise<boolean> {
    const rows: Array<{ outcome: string }> = await this.dataSource.query(
      `WITH record AS (
         UPDATE verifications SET delivery_status = 'sent', delivered_at = $3, provider_message_id = $2
          WHERE id = $1 AND delivery_status <> 'sent' RETURNING id),
       attempt AS (
         UPDATE delivery_attempts
            SET outcome = CASE WHEN EXISTS (SELECT 1 FROM record) THEN 'sent' ELSE 'duplicate' END,
                provider_message_id = $2, finished_at = $3
          WHERE id = $4 RETURNING outcome)
       SELECT outcome FROM attempt`,
      [verificationId, providerMessageId, now, attemptId],
    );
    return rows[0]?.outcome === 'sent';
  }

  /** Logs a failed attempt; when it was the last one the record becomes `failed` (never overwriting `sent`). */
  async fail(verificationId: string, attemptId: string, error: string, final: boolean, now: Date): Promise<void> {
    await this.dataSource.query(
      `WITH record AS (
         UPDATE verifications SET delivery_status = 'failed' WHERE id = $1 AND $4::boolean AND delivery_status <> 'sent')
       UPDATE delivery_attempts SET outcome = $5, error = $2, finished_at = $3 WHERE id = $6`,
      [verificationId, error, now, final, final ? 'failed' : 'retry', attemptId],
    );
  }
}
