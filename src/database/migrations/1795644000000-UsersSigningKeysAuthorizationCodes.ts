import { MigrationInterface, QueryRunner } from 'typeorm';

/** Users created by successful logins, the generated development signing key, and magic-link authorization codes. */
export class UsersSigningKeysAuthorizationCodes1795644000000 implements MigrationInterface {
  name = 'UsersSigningKeysAuthorizationCodes1795644000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE users (
        user_id varchar(64) PRIMARY KEY,
        connection varchar(64) NOT NULL REFERENCES connections (name),
        identifier varchar(320) NOT NULL,
        verified boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL,
        last_login_at timestamptz NOT NULL,
        UNIQUE (connection, identifier)
      )`);
    // Only used when SIGNING_KEYS is not configured; the private key is AES-256-GCM sealed with CODE_ENCRYPTION_KEY.
    await q.query(`
      CREATE TABLE signing_keys (
        kid varchar(64) PRIMARY KEY,
        alg varchar(10) NOT NULL,
        public_jwk jsonb NOT NULL,
        private_key_sealed text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE authorization_codes (
        code_hmac char(64) PRIMARY KEY,
        client_id varchar(64) NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
        user_id varchar(64) NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
        redirect_uri text NOT NULL,
        scope text NOT NULL,
        audience text,
        nonce text,
        code_challenge varchar(128),
        expires_at timestamptz NOT NULL,
        consumed_at timestamptz,
        created_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX authorization_codes_expires_at ON authorization_codes (expires_at)`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE authorization_codes');
    await q.query('DROP TABLE signing_keys');
    await q.query('DROP TABLE users');
  }
}
