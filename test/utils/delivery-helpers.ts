import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { ConnectionTemplates } from '../../src/verification/connection.entity';
import { waitFor } from './redis-process';

export type RecordRow = Record<string, unknown> & {
  id: string;
  delivery_status: string;
  code_hmac: string;
  link_token_hmac: string | null;
};
export type AttemptRow = {
  attempt: number;
  provider: string;
  outcome: string;
  provider_message_id: string | null;
  error: string | null;
};

export async function recordOf(dataSource: DataSource, id: string): Promise<RecordRow> {
  const rows: RecordRow[] = await dataSource.query('SELECT * FROM verifications WHERE id = $1', [id]);
  return rows[0];
}

/** Polls until the record's delivery status is `status` (the worker records it right after the provider answered). */
export async function waitForStatus(
  dataSource: DataSource,
  id: string,
  status: string,
  timeoutMs = 10_000,
): Promise<RecordRow> {
  await waitFor(async () => (await recordOf(dataSource, id))?.delivery_status === status, timeoutMs, 20);
  return recordOf(dataSource, id);
}

export function attemptsOf(dataSource: DataSource, id: string): Promise<AttemptRow[]> {
  return dataSource.query(
    'SELECT attempt, provider, outcome, provider_message_id, error FROM delivery_attempts WHERE verification_id = $1 ORDER BY id',
    [id],
  );
}

/** A connection of its own (unique name) so a test can set templates and sender without touching shared rows. */
export async function createConnection(
  dataSource: DataSource,
  strategy: 'email' | 'sms',
  options: { sender?: string; templates?: ConnectionTemplates } = {},
): Promise<string> {
  const name = `${strategy}-${randomBytes(5).toString('hex')}`;
  await dataSource.query('INSERT INTO connections (name, strategy, sender, templates) VALUES ($1, $2, $3, $4)', [
    name,
    strategy,
    options.sender ?? (strategy === 'email' ? 'Acme <login@acme.example>' : 'Acme'),
    JSON.stringify(options.templates ?? {}),
  ]);
  return name;
}
