import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Hosted login at /authorize:
 * - `sso_sessions`: one row per browser login; the cookie value is stored only as an HMAC (`id_hmac`), `sid` is the
 *   public id put in id_tokens. `expires_at` is the sooner of the idle and absolute ends, so one index serves both the
 *   lookup's expiry check and the periodic DELETE of expired rows;
 * - `login_tickets`: single-use tickets of POST /co/authenticate, stored as HMACs, bound to the client;
 * - authorization codes carry the login's `auth_time` and `sid` into the id_token of the code exchange.
 */
export class SsoSessionsLoginTickets1795651000000 implements MigrationInterface {
  name = 'SsoSessionsLoginTickets1795651000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sso_sessions (
        id_hmac char(64) PRIMARY KEY,
        sid varchar(64) NOT NULL UNIQUE,
        user_id varchar(64) NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
        auth_time timestamptz NOT NULL,
        absolute_expires_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        last_seen_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL
      )`);
    await q.query('CREATE INDEX sso_sessions_expires_at ON sso_sessions (expires_at)');
    await q.query(`
      CREATE TABLE login_tickets (
        ticket_hmac char(64) PRIMARY KEY,
        client_id varchar(64) NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
        user_id varchar(64) NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
        connection varchar(64) NOT NULL,
        expires_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL
      )`);
    await q.query('CREATE INDEX login_tickets_expires_at ON login_tickets (expires_at)');
    await q.query('ALTER TABLE authorization_codes ADD COLUMN auth_time timestamptz, ADD COLUMN sid varchar(64)');
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE authorization_codes DROP COLUMN sid, DROP COLUMN auth_time');
    await q.query('DROP TABLE login_tickets');
    await q.query('DROP TABLE sso_sessions');
  }
}
