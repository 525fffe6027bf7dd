import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An identifier's records by time: while Redis is unavailable the per-identifier limits (failed attempts, starts) are
 * counted from them (VerificationsRepository.failuresSince / startsSince), reading only that identifier's last window.
 */
export class VerificationsByIdentifier1795651000000 implements MigrationInterface {
  name = 'VerificationsByIdentifier1795651000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE INDEX verifications_identifier_created_at ON verifications (identifier, created_at)');
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX verifications_identifier_created_at');
  }
}
