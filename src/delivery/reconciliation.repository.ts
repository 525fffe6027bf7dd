import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { SendMode } from '../verification/verification.entity';
import type { QueueName } from './delivery.constants';

/** A record still waiting for its message, with no outbox row: its job should be on a queue. */
export interface UndeliveredRecord {
  id: string;
  queue: QueueName;
  send: SendMode;
  codeLength: number;
}

export interface Reissue {
  id: string;
  queue: QueueName;
  codeHmac: string;
  linkTokenHmac: string | null;
  sealedSecret: string;
}

/** "Waiting for a send": the predicate of the verifications_undelivered index. */
const UNDELIVERED = `v.delivery_status = 'pending' AND v.consumed_at IS NULL AND v.superseded_at IS NULL`;

/**
 * The reconciler's statements. Each is idempotent and guarded by the state it changes, so any number of replicas may
 * run them at once: a record is expired, re-issued or recovered by one statement only.
 */
@Injectable()
export class ReconciliationRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Records whose code expired before any send become `failed`, each with an `expired` attempt row. A send that is in
   * flight right now may still mark its record `sent` afterwards (the success write only refuses to overwrite `sent`).
   */
  async expire(now: Date, limit: number): Promise<Array<{ id: string; queue: QueueName }>> {
    return this.dataSource.query(
      `WITH expired AS (
         UPDATE verifications v SET delivery_status = 'failed'
           FROM connections c
          WHERE c.name = v.connection AND ${UNDELIVERED} AND v.expires_at <= $1
            AND v.id = ANY (ARRAY(SELECT id FROM verifications v WHERE ${UNDELIVERED} AND v.expires_at <= $1
                                   ORDER BY v.created_at LIMIT $2 FOR UPDATE OF v SKIP LOCKED))
         RETURNING v.id, c.strategy AS queue),
       logged AS (
         INSERT INTO delivery_attempts (verification_id, queue, attempt, provider, outcome, error, started_at, finished_at)
         SELECT e.id, e.queue,
                coalesce((SELECT max(a.attempt) FROM delivery_attempts a WHERE a.verification_id = e.id), 0) + 1,
                'none', 'expired', 'the code expired before it could be sent', $1, $1
           FROM expired e)
       SELECT id, queue FROM expired`,
      [now, limit],
    );
  }

  /** Undelivered, unexpired records created before `createdBefore` that have no outbox row, oldest first. */
  async undeliveredWithoutOutbox(now: Date, createdBefore: Date, limit: number): Promise<UndeliveredRecord[]> {
    return this.dataSource.query(
      `SELECT v.id, c.strategy AS queue, v.send, c.code_length AS "codeLength"
         FROM verifications v JOIN connections c ON c.name = v.connection
        WHERE ${UNDELIVERED} AND v.expires_at > $1 AND v.created_at <= $2
          AND NOT EXISTS (SELECT 1 FROM delivery_outbox o WHERE o.verification_id = v.id)
        ORDER BY v.created_at LIMIT $3`,
      [now, createdBefore, limit],
    );
  }

  /**
   * Gives records whose job was lost a fresh code and an outbox row again (the lost job's sealed code existed only in
   * Redis). Only records still undelivered, unexpired and without an outbox row change; returns their ids.
   */
  async reissue(items: Reissue[], now: Date): Promise<string[]> {
    if (items.length === 0) return [];
    const rows: Array<{ verification_id: string }> = await this.dataSource.query(
      `WITH item AS (
         SELECT * FROM unnest($1::bpchar[], $2::text[], $3::text[], $4::text[], $5::text[])
           AS t(id, queue, code_hmac, link_token_hmac, sealed_secret)),
       changed AS (
         UPDATE verifications v SET code_hmac = item.code_hmac, link_token_hmac = item.link_token_hmac
           FROM item
          WHERE v.id = item.id AND ${UNDELIVERED} AND v.expires_at > $6
            AND NOT EXISTS (SELECT 1 FROM delivery_outbox o WHERE o.verification_id = v.id)
         RETURNING v.id, item.queue, item.sealed_secret)
       INSERT INTO delivery_outbox (verification_id, queue, payload, created_at)
       SELECT id, queue, jsonb_build_object('verificationId', id, 'sealedSecret', sealed_secret), $6 FROM changed
       ON CONFLICT (verification_id) DO NOTHING
       RETURNING verification_id`,
      [
        items.map((i) => i.id),
        items.map((i) => i.queue),
        items.map((i) => i.codeHmac),
        items.map((i) => i.linkTokenHmac),
        items.map((i) => i.sealedSecret),
        now,
      ],
    );
    return rows.map((r) => r.verification_id);
  }

  /**
   * Settles a record whose job ended in the failed set without its outcome reaching the record: `sent` (with a
   * `recovered` attempt row) when the job says the provider accepted the message, else `failed`.
   */
  async settleFailedJob(id: string, sent: { providerMessageId: string | null } | null, now: Date): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `WITH settled AS (
         UPDATE verifications v
            SET delivery_status = CASE WHEN $2::boolean THEN 'sent' ELSE 'failed' END,
                delivered_at = CASE WHEN $2::boolean THEN $4::timestamptz END,
                provider_message_id = CASE WHEN $2::boolean THEN $3 END
          WHERE v.id = $1 AND v.delivery_status = 'pending'
         RETURNING v.id),
       logged AS (
         INSERT INTO delivery_attempts (verification_id, queue, attempt, provider, outcome, provider_message_id, error,
                                        started_at, finished_at)
         SELECT s.id, c.strategy,
                coalesce((SELECT max(a.attempt) FROM delivery_attempts a WHERE a.verification_id = s.id), 0) + 1,
                'none', 'recovered', $3, 'the job was sent but its outcome was not recorded', $4, $4
           FROM settled s JOIN verifications v ON v.id = s.id JOIN connections c ON c.name = v.connection
          WHERE $2::boolean)
       SELECT id FROM settled`,
      [id, sent !== null, sent?.providerMessageId ?? null, now],
    );
    return rows.length === 1;
  }
}
