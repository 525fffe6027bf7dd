import { MigrationInterface, QueryRunner } from 'typeorm';

/** The function's signature and body (SetBasedStartBatch's down() restores it). */
export const START_VERIFICATIONS_LOOP = `start_verifications(p_items jsonb) RETURNS void LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        item jsonb;
      BEGIN
        FOR item IN SELECT value FROM jsonb_array_elements(p_items) WITH ORDINALITY AS e(value, n) ORDER BY n LOOP
          PERFORM start_verification(
            item->>'id', item->>'client_id', item->>'connection', item->>'identifier', item->>'send',
            item->>'code_hmac', item->>'link_token_hmac', item->'auth_params', item->>'request_language',
            (item->>'expires_at')::timestamptz, item->>'request_ip', (item->>'now')::timestamptz,
            item->>'queue', item->'payload');
        END LOOP;
      END
      $$`;

/**
 * Several starts in one statement and one commit (VerificationsRepository groups the starts that arrive while the
 * previous write is in flight). Each item goes through start_verification() in array order, inside the caller's single
 * transaction: the batch commits or rolls back as a whole, and a later item for the same identifier supersedes an
 * earlier one exactly as two separate starts would. Callers sort items by lock key, so batches from several replicas
 * take their advisory locks in one global order and cannot deadlock each other.
 */
export class StartVerificationsBatch1795647500000 implements MigrationInterface {
  name = 'StartVerificationsBatch1795647500000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE FUNCTION ${START_VERIFICATIONS_LOOP}`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query('DROP FUNCTION start_verifications(jsonb)');
  }
}
