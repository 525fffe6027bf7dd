import { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1795639200000 implements MigrationInterface {
  name = 'InitialSchema1795639200000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE clients (
        client_id varchar(64) PRIMARY KEY,
        name varchar(200) NOT NULL,
        app_type varchar(20) NOT NULL CHECK (app_type IN ('regular_web', 'spa', 'native', 'non_interactive')),
        token_endpoint_auth_method varchar(32) NOT NULL
          CHECK (token_endpoint_auth_method IN ('none', 'client_secret_post', 'client_secret_basic', 'private_key_jwt')),
        client_secret_hash text,
        jwks jsonb,
        callbacks jsonb NOT NULL DEFAULT '[]',
        grant_types jsonb NOT NULL DEFAULT '[]',
        connections jsonb NOT NULL DEFAULT '[]',
        created_at timestamptz NOT NULL DEFAULT now(),
        -- public clients carry no credentials; confidential ones carry exactly the one their method needs
        CHECK ((token_endpoint_auth_method = 'none') = (client_secret_hash IS NULL AND jwks IS NULL)),
        CHECK (token_endpoint_auth_method <> 'private_key_jwt' OR jwks IS NOT NULL),
        CHECK (token_endpoint_auth_method NOT IN ('client_secret_post', 'client_secret_basic') OR client_secret_hash IS NOT NULL)
      )`);
    await q.query(`
      CREATE TABLE connections (
        name varchar(64) PRIMARY KEY,
        strategy varchar(10) NOT NULL CHECK (strategy IN ('email', 'sms')),
        code_length int NOT NULL DEFAULT 6 CHECK (code_length BETWEEN 4 AND 12),
        code_lifetime_seconds int NOT NULL DEFAULT 180 CHECK (code_lifetime_seconds BETWEEN 30 AND 86400),
        max_attempts int NOT NULL DEFAULT 3 CHECK (max_attempts BETWEEN 1 AND 20),
        sender text NOT NULL,
        templates jsonb NOT NULL DEFAULT '{}'
      )`);
    await q.query(`
      INSERT INTO connections (name, strategy, sender) VALUES
        ('email', 'email', 'Passwordless <no-reply@localhost>'),
        ('sms', 'sms', 'Passwordless')`);
    await q.query(`
      CREATE TABLE verifications (
        id char(24) PRIMARY KEY,
        client_id varchar(64) NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
        connection varchar(64) NOT NULL REFERENCES connections (name),
        identifier varchar(320) NOT NULL,
        send varchar(8) NOT NULL CHECK (send IN ('code', 'link')),
        code_hmac char(64) NOT NULL,
        link_token_hmac char(64),
        auth_params jsonb NOT NULL DEFAULT '{}',
        request_language varchar(35),
        expires_at timestamptz NOT NULL,
        failed_attempts int NOT NULL DEFAULT 0,
        consumed_at timestamptz,
        superseded_at timestamptz,
        delivery_status varchar(16) NOT NULL DEFAULT 'pending' CHECK (delivery_status IN ('pending', 'queued', 'sent', 'failed')),
        request_ip varchar(45),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    // Auth0: only the latest code is valid. The partial unique index makes "one live record" a database invariant.
    await q.query(`
      CREATE UNIQUE INDEX verifications_one_live_per_identifier ON verifications (client_id, connection, identifier)
        WHERE consumed_at IS NULL AND superseded_at IS NULL`);
    await q.query(`CREATE INDEX verifications_created_at ON verifications (created_at)`);
    await q.query(`
      CREATE TABLE delivery_outbox (
        verification_id char(24) PRIMARY KEY REFERENCES verifications (id) ON DELETE CASCADE,
        queue varchar(16) NOT NULL,
        payload jsonb NOT NULL,
        relay_attempts int NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE delivery_outbox');
    await q.query('DROP TABLE verifications');
    await q.query('DROP TABLE connections');
    await q.query('DROP TABLE clients');
  }
}
