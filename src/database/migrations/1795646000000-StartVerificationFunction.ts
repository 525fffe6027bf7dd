import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * POST /passwordless/start's write as one statement: one database round trip and one commit instead of five
 * (BEGIN, lock, UPDATE, INSERT, COMMIT). The function runs in the caller's (implicit) transaction, so the advisory
 * lock is held until commit exactly as before. It is VOLATILE: under READ COMMITTED each statement inside takes a fresh
 * snapshot (PostgreSQL docs, "Function Volatility Categories"), so the UPDATE after the lock sees a record committed by
 * the previous holder and supersedes it, and the partial unique index never trips.
 */
export class StartVerificationFunction1795646000000 implements MigrationInterface {
  name = 'StartVerificationFunction1795646000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION start_verification(
        p_id char(24), p_client_id varchar, p_connection varchar, p_identifier varchar, p_send varchar,
        p_code_hmac char(64), p_link_token_hmac char(64), p_auth_params jsonb, p_request_language varchar,
        p_expires_at timestamptz, p_request_ip varchar, p_now timestamptz, p_queue varchar, p_payload jsonb
      ) RETURNS void LANGUAGE plpgsql VOLATILE AS $$
      BEGIN
        -- Serialises concurrent starts for one client + connection + identifier until this transaction ends.
        PERFORM pg_advisory_xact_lock(hashtextextended(p_client_id || '|' || p_connection || '|' || p_identifier, 0));
        -- Auth0: only the latest code is valid.
        UPDATE verifications SET superseded_at = p_now
         WHERE client_id = p_client_id AND connection = p_connection AND identifier = p_identifier
           AND consumed_at IS NULL AND superseded_at IS NULL;
        INSERT INTO verifications (id, client_id, connection, identifier, send, code_hmac, link_token_hmac, auth_params,
                                   request_language, expires_at, request_ip, created_at)
        VALUES (p_id, p_client_id, p_connection, p_identifier, p_send, p_code_hmac, p_link_token_hmac, p_auth_params,
                p_request_language, p_expires_at, p_request_ip, p_now);
        INSERT INTO delivery_outbox (verification_id, queue, payload, created_at) VALUES (p_id, p_queue, p_payload, p_now);
      END
      $$`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(
      'DROP FUNCTION start_verification(char, varchar, varchar, varchar, varchar, char, char, jsonb, varchar, timestamptz, varchar, timestamptz, varchar, jsonb)',
    );
  }
}
