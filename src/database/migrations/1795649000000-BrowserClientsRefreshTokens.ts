import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Browser settings of a client (Auth0's Allowed Web Origins, Allowed Origins (CORS), Allowed Logout URLs) and rotating
 * refresh tokens. A family is one grant (one login with offline_access); each exchange adds a token with the next
 * counter and only the family's latest counter is live (rotation, reuse detection: RFC 9700 §4.14.2). Tokens are
 * stored as HMACs only. Both tables carry expires_at, indexed, so that rows nobody can use any more can be deleted.
 */
export class BrowserClientsRefreshTokens1795649000000 implements MigrationInterface {
  name = 'BrowserClientsRefreshTokens1795649000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE clients
        ADD COLUMN web_origins jsonb NOT NULL DEFAULT '[]',
        ADD COLUMN allowed_origins jsonb NOT NULL DEFAULT '[]',
        ADD COLUMN allowed_logout_urls jsonb NOT NULL DEFAULT '[]'`);
    await q.query(`
      CREATE TABLE refresh_token_families (
        id uuid PRIMARY KEY,
        client_id varchar(64) NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
        user_id varchar(64) NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
        scope text NOT NULL,
        audience text,
        authorization_code_hmac char(64),
        latest_counter integer NOT NULL DEFAULT 0,
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        created_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX refresh_token_families_expires_at ON refresh_token_families (expires_at)`);
    await q.query(
      `CREATE INDEX refresh_token_families_code ON refresh_token_families (authorization_code_hmac) WHERE authorization_code_hmac IS NOT NULL`,
    );
    await q.query(`
      CREATE TABLE refresh_tokens (
        token_hmac char(64) PRIMARY KEY,
        family_id uuid NOT NULL REFERENCES refresh_token_families (id) ON DELETE CASCADE,
        counter integer NOT NULL,
        expires_at timestamptz NOT NULL,
        rotated_at timestamptz,
        created_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at)`);
    await q.query(`CREATE INDEX refresh_tokens_family_id ON refresh_tokens (family_id)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE refresh_tokens');
    await q.query('DROP TABLE refresh_token_families');
    await q.query(
      'ALTER TABLE clients DROP COLUMN web_origins, DROP COLUMN allowed_origins, DROP COLUMN allowed_logout_urls',
    );
  }
}
