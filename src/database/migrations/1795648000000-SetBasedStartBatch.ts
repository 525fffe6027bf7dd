import { MigrationInterface, QueryRunner } from 'typeorm';
import { START_VERIFICATIONS_LOOP } from './1795647500000-StartVerificationsBatch';

/**
 * start_verifications() writes a batch with two statements per start plus one INSERT for all of them, instead of a
 * function call and four statements per start: executing statements, not writing rows, was most of Postgres's work
 * per start. Same input and the same outcome as starting the items one by one in array order:
 * - advisory locks in array order (callers sort by lock key, so concurrent batches cannot deadlock each other);
 * - the live record of each identifier is superseded at the time of the batch's first start for it;
 * - a start followed by a later one for the same identifier in the batch is inserted already superseded at the later
 *   one's time, and gets no outbox row (the relay would drop it as not live anyway).
 * VOLATILE, so each statement sees what committed before its locks were granted (see StartVerificationFunction).
 * The supersede stays one UPDATE per start on purpose: with scalar parameters its cached plan is always the lookup in
 * the live-record index, whereas a join against the batch was cached as a walk over every live record when the plan
 * was made while the table was young (docs/decisions/004-set-based-start-batch.md).
 */
export class SetBasedStartBatch1795648000000 implements MigrationInterface {
  name = 'SetBasedStartBatch1795648000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(START_VERIFICATIONS_SET_BASED);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE OR REPLACE FUNCTION ${START_VERIFICATIONS_LOOP}`);
  }
}

/**
 * The function's definition. LIVE_IDS_MARK stands where the DailyPartitionsForRetention migration bounds the record
 * being superseded to the ids that can still be live (a plain string: TypeORM takes every exported function of a
 * migration file for a migration class).
 */
export const LIVE_IDS_MARK = '/* live ids */';
export const START_VERIFICATIONS_SET_BASED = `
      CREATE OR REPLACE FUNCTION start_verifications(p_items jsonb) RETURNS void LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        k record;
      BEGIN
        FOR k IN SELECT i.client_id, i.connection, i.identifier, i.now
                   FROM ROWS FROM (jsonb_to_recordset(p_items) AS (client_id text, connection text, identifier text, now timestamptz))
                        WITH ORDINALITY AS i(client_id, connection, identifier, now, n)
                  ORDER BY i.n LOOP
          PERFORM pg_advisory_xact_lock(hashtextextended(k.client_id || '|' || k.connection || '|' || k.identifier, 0));
          -- A later start for the same identifier in this batch finds nothing live here: the first one superseded it.
          UPDATE verifications SET superseded_at = k.now
           WHERE client_id = k.client_id AND connection = k.connection AND identifier = k.identifier
             AND consumed_at IS NULL AND superseded_at IS NULL ${LIVE_IDS_MARK};
        END LOOP;
        WITH items AS (
               SELECT i.*, lead(i.now) OVER (PARTITION BY i.client_id, i.connection, i.identifier ORDER BY i.n) AS superseded_at
                 FROM ROWS FROM (jsonb_to_recordset(p_items) AS (
                        id text, client_id text, connection text, identifier text, send text, code_hmac text,
                        link_token_hmac text, auth_params jsonb, request_language text, expires_at timestamptz,
                        request_ip text, now timestamptz, queue text, payload jsonb))
                      WITH ORDINALITY AS i(id, client_id, connection, identifier, send, code_hmac, link_token_hmac,
                        auth_params, request_language, expires_at, request_ip, now, queue, payload, n)),
             inserted AS (
               INSERT INTO verifications (id, client_id, connection, identifier, send, code_hmac, link_token_hmac,
                                          auth_params, request_language, expires_at, request_ip, created_at, superseded_at)
               SELECT id, client_id, connection, identifier, send, code_hmac, link_token_hmac,
                      auth_params, request_language, expires_at, request_ip, now, superseded_at
                 FROM items)
        INSERT INTO delivery_outbox (verification_id, queue, payload, created_at)
        SELECT id, queue, payload, now FROM items WHERE superseded_at IS NULL;
      END
      $$`;
