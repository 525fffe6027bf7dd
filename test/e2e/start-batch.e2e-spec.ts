import { randomBytes } from 'node:crypto';
import { recordIdAt } from '../../src/verification/record-id';
import { VerificationEntity } from '../../src/verification/verification.entity';
import { VerificationsRepository } from '../../src/verification/verifications.repository';
import { createClient, uniqueEmail, type TestClient } from '../utils/factories';
import { startTestApp, type TestApp } from '../utils/test-app';

/** start_verifications() on its own (migration SetBasedStartBatch): a batch must end as its starts made one by one would. */
describe('start_verifications(jsonb)', () => {
  let t: TestApp;
  let client: TestClient;

  beforeAll(async () => {
    t = await startTestApp();
    client = await createClient(t.dataSource);
  });
  afterAll(() => t.close());

  /** A start at `at` as the service writes one: a time-ordered id and a code that lives 180 s. */
  const item = (identifier: string, at: string) => ({
    id: recordIdAt(new Date(at)) + randomBytes(6).toString('hex'),
    client_id: client.clientId,
    connection: 'email',
    identifier,
    send: 'code',
    code_hmac: 'a'.repeat(64),
    link_token_hmac: null as string | null,
    auth_params: { scope: 'openid' },
    request_language: 'fr' as string | null,
    expires_at: new Date(Date.parse(at) + 180_000).toISOString(),
    request_ip: '203.0.113.5',
    now: at,
    queue: 'email',
    payload: { verificationId: 'x', sealedSecret: 'y' },
  });
  type Query = (sql: string, params: unknown[]) => Promise<unknown>;
  const batch = (query: Query, items: Array<ReturnType<typeof item>>) =>
    query('SELECT start_verifications($1::jsonb)', [JSON.stringify(items)]);
  const rows = (query: Query, ids: string[]) =>
    query(
      `SELECT v.id, v.superseded_at, v.auth_params, v.request_language, EXISTS (SELECT 1 FROM delivery_outbox o WHERE o.verification_id = v.id) AS outbox
         FROM verifications v WHERE v.id = ANY($1) ORDER BY v.created_at`,
      [ids],
    ) as Promise<
      Array<{ id: string; superseded_at: Date | null; outbox: boolean; auth_params: object; request_language: string }>
    >;

  /** Runs `body` in a transaction that is rolled back: no other test's relay ever sees these rows. */
  const rolledBack = async (body: (query: Query) => Promise<void>) => {
    const runner = t.dataSource.createQueryRunner();
    await runner.startTransaction();
    try {
      await body((sql, params) => runner.query(sql, params));
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
  };

  it('should supersede earlier records and earlier starts of the same batch, and give only live records an outbox row', async () => {
    const [a, b] = [uniqueEmail(), uniqueEmail()];
    const before = item(a, '2026-11-26T10:00:00Z');
    const later = [item(a, '2026-11-26T10:00:01Z'), item(b, '2026-11-26T10:00:02Z'), item(a, '2026-11-26T10:00:03Z')];
    await rolledBack(async (query) => {
      await batch(query, [before]);
      await batch(query, later);

      const result = await rows(
        query,
        [before, ...later].map((i) => i.id),
      );
      expect(result.map((r) => [r.id, r.superseded_at?.toISOString() ?? null, r.outbox])).toEqual([
        [before.id, '2026-11-26T10:00:01.000Z', true], // the relay drops this row as not live
        [later[0].id, '2026-11-26T10:00:03.000Z', false],
        [later[1].id, null, true],
        [later[2].id, null, true],
      ]);
      expect(result[3]).toMatchObject({ auth_params: { scope: 'openid' }, request_language: 'fr' });
    });
  });

  it('should be read back by findLive (raw SQL) exactly as TypeORM hydrates the entity', async () => {
    const query: Query = (sql, params) => t.dataSource.query(sql, params);
    const now = new Date();
    const code = item(uniqueEmail(), now.toISOString());
    const link = {
      ...item(uniqueEmail(), now.toISOString()),
      send: 'link',
      link_token_hmac: 'b'.repeat(64),
      request_language: null,
    };
    await batch(query, [code, link]);
    const verifications = t.app.get(VerificationsRepository);
    for (const written of [code, link]) {
      const found = await verifications.findLive(client.clientId, 'email', written.identifier, now);
      expect(found).toBeInstanceOf(VerificationEntity);
      expect(found).toEqual(await t.dataSource.getRepository(VerificationEntity).findOneBy({ id: written.id }));
      expect(found).toMatchObject({
        id: written.id,
        failedAttempts: 0,
        consumedAt: null,
        expiresAt: new Date(written.expires_at),
      });
    }
  });

  it('should write nothing of a batch with a bad item', async () => {
    const good = item(uniqueEmail(), '2026-11-26T11:00:00Z');
    const bad = { ...item(uniqueEmail(), '2026-11-26T11:00:01Z'), connection: 'no-such-connection' };
    const query: Query = (sql, params) => t.dataSource.query(sql, params);
    await expect(batch(query, [good, bad])).rejects.toThrow(/foreign key/);
    expect(await rows(query, [good.id, bad.id])).toEqual([]);
  });
});
