import { MigrationInterface, QueryRunner } from 'typeorm';

/** Delivery bookkeeping for the workers: the provider's message id on the record, and one row per send attempt. */
export class DeliveryAttempts1795640400000 implements MigrationInterface {
  name = 'DeliveryAttempts1795640400000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE verifications
        ADD COLUMN delivered_at timestamptz,
        ADD COLUMN provider_message_id varchar(255)`);
    // One row per finished attempt. Never holds the code or the link: only what happened, when, and a sanitised error.
    await q.query(`
      CREATE TABLE delivery_attempts (
        id bigserial PRIMARY KEY,
        verification_id char(24) NOT NULL REFERENCES verifications (id) ON DELETE CASCADE,
        queue varchar(16) NOT NULL,
        attempt int NOT NULL,
        provider varchar(16) NOT NULL,
        outcome varchar(16) NOT NULL CHECK (outcome IN ('sent', 'duplicate', 'retry', 'failed')),
        provider_message_id varchar(255),
        error varchar(500),
        started_at timestamptz NOT NULL,
        finished_at timestamptz NOT NULL
      )`);
    await q.query('CREATE INDEX delivery_attempts_verification ON delivery_attempts (verification_id)');
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE delivery_attempts');
    await q.query('ALTER TABLE verifications DROP COLUMN provider_message_id, DROP COLUMN delivered_at');
  }
}
