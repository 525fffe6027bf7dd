import { MigrationInterface, QueryRunner } from 'typeorm';

/** spa and native apps are public (auth method none); every other app type must authenticate (Auth0 D-mig). */
export class ClientTypeMatchesAuthMethod1795645000000 implements MigrationInterface {
  name = 'ClientTypeMatchesAuthMethod1795645000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE clients ADD CONSTRAINT clients_public_iff_spa_or_native
        CHECK ((app_type IN ('spa', 'native')) = (token_endpoint_auth_method = 'none'))`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE clients DROP CONSTRAINT clients_public_iff_spa_or_native');
  }
}
