import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The outbox relay becomes the only producer of delivery jobs (see OutboxRelay): a start commits its record and outbox
 * row and answers; it no longer enqueues and then acknowledges (a second statement per start). So a record no longer
 * passes through `pending` (outbox row not yet acknowledged): it is `queued` from the start, meaning "delivery
 * durably scheduled", whether its job is still in the outbox or already on the queue. The index lets the relay claim
 * the oldest rows first without sorting the table when a Redis outage left a backlog.
 */
export class RelayOwnsEnqueue1795647000000 implements MigrationInterface {
  name = 'RelayOwnsEnqueue1795647000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`UPDATE verifications SET delivery_status = 'queued' WHERE delivery_status = 'pending'`);
    await q.query(`ALTER TABLE verifications ALTER COLUMN delivery_status SET DEFAULT 'queued'`);
    await q.query('ALTER TABLE verifications DROP CONSTRAINT verifications_delivery_status_check');
    await q.query(`ALTER TABLE verifications ADD CONSTRAINT verifications_delivery_status_check CHECK (delivery_status IN ('queued', 'sent', 'failed'))`);
    await q.query('CREATE INDEX delivery_outbox_created_at ON delivery_outbox (created_at)');
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX delivery_outbox_created_at');
    await q.query('ALTER TABLE verifications DROP CONSTRAINT verifications_delivery_status_check');
    await q.query(`ALTER TABLE verifications ADD CONSTRAINT verifications_delivery_status_check CHECK (delivery_status IN ('pending', 'queued', 'sent', 'failed'))`);
    await q.query(`ALTER TABLE verifications ALTER COLUMN delivery_status SET DEFAULT 'pending'`);
  }
}
