import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-client rate-limit overrides and forwarded-for trust; per-connection SMS destinations (issue 5). Its timestamp
 * stays below any `client:new` migration (stamped with Date.now()), whose INSERT names these columns.
 */
export class AbuseProtectionSettings1795639500005 implements MigrationInterface {
  name = 'AbuseProtectionSettings1795639500005';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE clients
        ADD COLUMN rate_limits jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(rate_limits) = 'object'),
        ADD COLUMN trust_forwarded_for boolean NOT NULL DEFAULT false,
        -- Auth0 honours auth0-forwarded-for only from confidential (authenticated) applications
        ADD CONSTRAINT clients_forwarded_for_confidential_only CHECK (NOT trust_forwarded_for OR token_endpoint_auth_method <> 'none')`);
    await q.query(`
      ALTER TABLE connections
        ADD COLUMN allowed_calling_codes jsonb CHECK (allowed_calling_codes IS NULL OR jsonb_typeof(allowed_calling_codes) = 'array')`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE connections DROP COLUMN allowed_calling_codes');
    await q.query(
      'ALTER TABLE clients DROP CONSTRAINT clients_forwarded_for_confidential_only, DROP COLUMN trust_forwarded_for, DROP COLUMN rate_limits',
    );
  }
}
