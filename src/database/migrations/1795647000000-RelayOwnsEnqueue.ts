import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The outbox relay becomes the only producer of delivery jobs (see OutboxRelay): it takes outbox rows oldest first, so
 * this index lets it do that without sorting the table when a Redis outage left a backlog. (Plain CREATE INDEX: the
 * migration runs in a transaction, and the outbox is empty or small whenever Redis is up.)
 */
export class RelayOwnsEnqueue1795647000000 implements MigrationInterface {
  name = 'RelayOwnsEnqueue1795647000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE INDEX delivery_outbox_created_at ON delivery_outbox (created_at)');
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX delivery_outbox_created_at');
  }
}
