import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The login a refresh-token family was issued from: its time and SSO session id, so that every id_token refreshed from
 * it carries the original `auth_time` and `sid` (OpenID Connect Core §12.2). Families issued before stay without them.
 */
export class RefreshFamiliesKeepTheLogin1795652000000 implements MigrationInterface {
  name = 'RefreshFamiliesKeepTheLogin1795652000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE refresh_token_families ADD COLUMN auth_time timestamptz, ADD COLUMN sid varchar(64)');
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE refresh_token_families DROP COLUMN auth_time, DROP COLUMN sid');
  }
}
