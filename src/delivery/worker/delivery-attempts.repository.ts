import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool, QueryResultRow } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import type { ConnectionTemplates } from '../../verification/connection.entity';
import type { SendMode } from '../../verification/verification.entity';
import { GroupCommit } from '../../common/group-commit';
import { isItemSpecificDbError } from '../../database/pg-errors';
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
  i: number;
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

interface Success {
  log: AttemptLog;
  providerMessageId: string | null;
  /** The HMAC of the code that was sent: a record whose code was issued again meanwhile is not made `sent` by it. */
  codeHmac: string;
  now: Date;
}

/** Enough for every job a worker process runs at once (WORKER_*_CONCURRENCY) to go in one statement. */
const MAX_BATCH = 100;

/**
 * The worker's side of the verifications table and the delivery_attempts log. Two statements per job: a read of the
 * record, and one write that records the outcome on the record and logs the attempt together. The jobs a worker runs
 * concurrently share them (GroupCommit): reads that arrive while one is in flight go together in the next one, and so
 * do successes, which also makes one commit of many. (An attempt whose worker died mid-send leaves no row; BullMQ
 * retries it and the next row's `attempt` number shows the gap.)
 */
@Injectable()
export class DeliveryAttemptsRepository {
  private readonly reads = new GroupCommit<{ verificationId: string; now: Date }, DeliveryStart>(
    (items) => this.beginAll(items),
    MAX_BATCH,
  );
  private readonly successes = new GroupCommit<Success, boolean>((items) => this.succeedAll(items), MAX_BATCH, {
    retryItemsAlone: isItemSpecificDbError,
  });

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * These statements run for every message, so they go straight to the pg pool as named prepared statements: Postgres
   * parses and plans each once per connection, and TypeORM's per-query runner is skipped. The worker's connections
   * keep generic plans (DatabaseModule.forRoot({ genericPlans })), so their array parameters do not make Postgres
   * re-plan on every call. `pool.query` also watches the connection while the statement runs: a connection the server
   * drops (restart, failover) fails this call instead of emitting an unhandled 'error' that would end the process.
   */
  private async run<T extends QueryResultRow>(name: string, text: string, values: unknown[]): Promise<T[]> {
    const pool = (this.dataSource.driver as PostgresDriver).master as Pool;
    const { rows } = await pool.query<T>({ name, text, values });
    return rows;
  }

  /** Loads the record with its connection and client, and whether to skip it (as of `now`) instead of sending. */
  begin(verificationId: string, now: Date): Promise<DeliveryStart> {
    return this.reads.submit({ verificationId, now });
  }

  private async beginAll(items: Array<{ verificationId: string; now: Date }>): Promise<DeliveryStart[]> {
    // `= ANY` keeps the lookup on the primary key whatever the plan thinks of the unnest; `i` maps rows back to items.
    const rows = await this.run<TargetRow>(
      'delivery_begin',
      `SELECT t.i::int AS i, v.id, v.client_id, cl.name AS client_name, v.connection, c.sender, c.templates, v.identifier,
              v.send, v.request_language, v.auth_params,
              CASE WHEN v.delivery_status = 'sent' THEN 'sent'
                   WHEN v.superseded_at IS NOT NULL THEN 'superseded'
                   WHEN v.consumed_at IS NOT NULL THEN 'consumed'
                   WHEN v.expires_at <= t.now THEN 'expired' END AS skip
         FROM verifications v
         JOIN unnest($1::bpchar[], $2::timestamptz[]) WITH ORDINALITY AS t(id, now, i) ON t.id = v.id
         JOIN connections c ON c.name = v.connection
         JOIN clients cl ON cl.client_id = v.client_id
        WHERE v.id = ANY($1::bpchar[])`,
      [items.map((item) => item.verificationId), items.map((item) => item.now)],
    );
    const starts: DeliveryStart[] = items.map(() => ({ skip: 'missing' }));
    for (const row of rows) {
      starts[row.i - 1] = row.skip
        ? { skip: row.skip }
        : {
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
    return starts;
  }

  /**
   * Marks the record sent unless another delivery already did (the `<> 'sent'` guard makes the transition atomic);
   * returns false in that case, and the attempt is logged as a duplicate. A group that failed on its data or on a
   * deadlock is retried item by item (GroupCommit), so one item the database refuses cannot fail the others.
   */
  succeed(log: AttemptLog, providerMessageId: string | null, codeHmac: string, now: Date): Promise<boolean> {
    return this.successes.submit({ log, providerMessageId, codeHmac, now });
  }

  /**
   * One statement for a group of successes. When the same record is in the group twice, only its first item can make
   * it `sent` (an UPDATE changes a row once); `i` maps the outcomes back to the items.
   */
  private async succeedAll(items: Success[]): Promise<boolean[]> {
    const rows = await this.run<{ i: number; sent: boolean }>(
      'delivery_succeed',
      `WITH item AS (
         SELECT * FROM unnest($1::bpchar[], $2::text[], $3::int[], $4::text[], $5::timestamptz[], $6::text[],
                              $7::timestamptz[], $8::bpchar[])
           WITH ORDINALITY AS t(verification_id, queue, attempt, provider, started_at, provider_message_id, finished_at,
                                code_hmac, i)),
       record AS (
         UPDATE verifications v
            SET delivery_status = 'sent', delivered_at = first.finished_at, provider_message_id = first.provider_message_id
           FROM (SELECT DISTINCT ON (verification_id) * FROM item ORDER BY verification_id, i) first
          WHERE v.id = first.verification_id AND v.id = ANY($1::bpchar[]) AND v.delivery_status <> 'sent'
            AND v.code_hmac = first.code_hmac
         RETURNING first.i),
       logged AS (
         INSERT INTO delivery_attempts (verification_id, queue, attempt, provider, started_at, finished_at, provider_message_id, outcome)
         SELECT verification_id, queue, attempt, provider, started_at, finished_at, provider_message_id,
                CASE WHEN i IN (SELECT i FROM record) THEN 'sent' ELSE 'duplicate' END
           FROM item)
       SELECT i::int AS i, i IN (SELECT i FROM record) AS sent FROM item`,
      [
        items.map((s) => s.log.verificationId),
        items.map((s) => s.log.queue),
        items.map((s) => s.log.attempt),
        items.map((s) => s.log.provider),
        items.map((s) => s.log.startedAt),
        items.map((s) => s.providerMessageId),
        items.map((s) => s.now),
        items.map((s) => s.codeHmac),
      ],
    );
    const sent = new Array<boolean>(items.length).fill(false);
    for (const row of rows) sent[row.i - 1] = row.sent;
    return sent;
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
    await this.run(
      'delivery_mark_failed',
      "UPDATE verifications SET delivery_status = 'failed' WHERE id = $1 AND delivery_status IN ('pending', 'queued')",
      [verificationId],
    );
  }
}
