import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Delivery that survives lost jobs and routine faults:
 * - `delivery_outbox` notifies the relays (LISTEN delivery_outbox) once per inserting statement; Postgres delivers the
 *   notification on commit, so a start batch costs no extra round trip and a relay never sees an uncommitted row;
 * - the undelivered index holds only records still waiting for a send (pending and live), so the reconciler and the
 *   back-pressure check read the backlog without walking the table;
 * - an `expired` attempt row records a message whose code expired before any send.
 */
export class DeliveryReconciliation1795650000000 implements MigrationInterface {
  name = 'DeliveryReconciliation1795650000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION notify_delivery_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('delivery_outbox', '');
        RETURN NULL;
      END
      $$`);
    await q.query(`
      CREATE TRIGGER delivery_outbox_notify AFTER INSERT ON delivery_outbox
        FOR EACH STATEMENT EXECUTE FUNCTION notify_delivery_outbox()`);
    await q.query(`
      CREATE INDEX verifications_undelivered ON verifications (connection, created_at)
        WHERE delivery_status = 'pending' AND consumed_at IS NULL AND superseded_at IS NULL`);
    await q.query(`
      ALTER TABLE delivery_attempts DROP CONSTRAINT delivery_attempts_outcome_check,
        ADD CONSTRAINT delivery_attempts_outcome_check
          CHECK (outcome IN ('sent', 'duplicate', 'retry', 'failed', 'expired', 'recovered'))`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM delivery_attempts WHERE outcome IN ('expired', 'recovered')`);
    await q.query(`
      ALTER TABLE delivery_attempts DROP CONSTRAINT delivery_attempts_outcome_check,
        ADD CONSTRAINT delivery_attempts_outcome_check CHECK (outcome IN ('sent', 'duplicate', 'retry', 'failed'))`);
    await q.query('DROP INDEX verifications_undelivered');
    await q.query('DROP TRIGGER delivery_outbox_notify ON delivery_outbox');
    await q.query('DROP FUNCTION notify_delivery_outbox()');
  }
}
