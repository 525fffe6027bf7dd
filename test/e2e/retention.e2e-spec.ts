import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { RandomSource } from '../../src/common/random.source';
import { loadConfig } from '../../src/config/app-config';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { RetentionJob } from '../../src/retention/retention.job';
import { newRecordId } from '../../src/verification/record-id';
import { ADMIN_DATABASE_URL } from '../setup/test-env';
import { createConnection } from '../utils/delivery-helpers';
import { createClient, uniqueEmail } from '../utils/factories';
import { startTestApp, type TestApp } from '../utils/test-app';

const DAY_MS = 86_400_000;
const random = new RandomSource();

/** Inserts a record created at `at` (with `id`, time-ordered by default) and one delivery attempt of it. */
async function insertRecord(
  db: DataSource,
  clientId: string,
  connection: string,
  at: Date,
  id = newRecordId(at, random),
): Promise<string> {
  await db.query(
    `INSERT INTO verifications (id, client_id, connection, identifier, send, code_hmac, expires_at, created_at,
                                delivery_status)
     VALUES ($1, $2, $3, $4, 'code', $5, $6, $7, 'sent')`,
    [id, clientId, connection, uniqueEmail(), randomBytes(32).toString('hex'), new Date(at.getTime() + 300_000), at],
  );
  await db.query(
    `INSERT INTO delivery_attempts (verification_id, queue, attempt, provider, outcome, started_at, finished_at)
     VALUES ($1, 'email', 1, 'smtp', 'sent', $2, $2)`,
    [id, at],
  );
  return id;
}

/** A statement on the server's admin database (creating and dropping test databases). */
async function adminQuery(sql: string): Promise<void> {
  const client = new Client({ connectionString: ADMIN_DATABASE_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

const utcDay = (at: Date) => at.toISOString().slice(0, 10).replaceAll('-', '');

describe('Retention: daily partitions dropped after RETENTION_DAYS', () => {
  let t: TestApp;
  let job: RetentionJob;
  let clientId: string;
  let connection: string;

  beforeAll(async () => {
    t = await startTestApp({ env: { RETENTION_DAYS: '7' } });
    job = t.relay!.get(RetentionJob);
    ({ clientId } = await createClient(t.dataSource));
    connection = await createConnection(t.dataSource, 'email');
  });

  afterAll(() => t.close());

  const partitionOf = async (table: string, id: string, column = 'id') =>
    (
      await t.dataSource.query<Array<{ p: string }>>(
        `SELECT tableoid::regclass::text AS p FROM ${table} WHERE ${column} = $1`,
        [id],
      )
    )[0]?.p;

  it('should write a start into its day’s partition, and prepare the next days', async () => {
    const res = await t.post('/passwordless/start', {
      ...(await createClient(t.dataSource).then((c) => ({ client_id: c.clientId, client_secret: c.secret }))),
      connection: 'email',
      email: uniqueEmail(),
      send: 'code',
    });
    expect(res.status).toBe(200);
    const today = utcDay(new Date());
    expect(await partitionOf('verifications', res.body._id as string)).toBe(`verifications_p${today}`);
    await job.run();
    const tomorrow = utcDay(new Date(Date.now() + DAY_MS));
    const tables = await t.dataSource.query<Array<{ name: string }>>(
      `SELECT to_regclass($1)::text AS name UNION ALL SELECT to_regclass($2)::text`,
      [`verifications_p${tomorrow}`, `delivery_attempts_p${tomorrow}`],
    );
    expect(tables.map((row) => row.name)).toEqual([`verifications_p${tomorrow}`, `delivery_attempts_p${tomorrow}`]);
  });

  it('should drop the days past retention with their attempts, and keep the others', async () => {
    const now = Date.now();
    await t.dataSource.query('SELECT ensure_daily_partitions($1::date, $2::date)', [
      new Date(now - 10 * DAY_MS).toISOString().slice(0, 10),
      new Date(now - 5 * DAY_MS).toISOString().slice(0, 10),
    ]);
    const old = await insertRecord(t.dataSource, clientId, connection, new Date(now - 10 * DAY_MS));
    const kept = await insertRecord(t.dataSource, clientId, connection, new Date(now - 5 * DAY_MS));
    // An id made before ids were time-ordered lands in the default partition and is deleted by its date.
    const strayOld = await insertRecord(
      t.dataSource,
      clientId,
      connection,
      new Date(now - 10 * DAY_MS),
      'f'.repeat(12) + randomBytes(6).toString('hex'),
    );
    expect(await partitionOf('verifications', old)).toBe(`verifications_p${utcDay(new Date(now - 10 * DAY_MS))}`);
    expect(await partitionOf('delivery_attempts', old, 'verification_id')).toBe(
      `delivery_attempts_p${utcDay(new Date(now - 10 * DAY_MS))}`,
    );
    expect(await partitionOf('verifications', strayOld)).toBe('verifications_default');

    const pass = await job.run();
    expect(pass).toMatchObject({ daysDropped: expect.any(Number), legacyDropped: false });
    expect(pass!.daysDropped).toBeGreaterThanOrEqual(1);
    expect(await partitionOf('verifications', old)).toBeUndefined();
    expect(await partitionOf('delivery_attempts', old, 'verification_id')).toBeUndefined();
    expect(await partitionOf('verifications', strayOld)).toBeUndefined();
    expect(await partitionOf('verifications', kept)).toBe(`verifications_p${utcDay(new Date(now - 5 * DAY_MS))}`);
    expect(await partitionOf('delivery_attempts', kept, 'verification_id')).toBeDefined();
    const [{ name }] = await t.dataSource.query<Array<{ name: string | null }>>(
      'SELECT to_regclass($1)::text AS name',
      [`verifications_p${utcDay(new Date(now - 10 * DAY_MS))}`],
    );
    expect(name).toBeNull();
  });

  it('should leave a day whose records already sit in the default partition there, and still prepare the others', async () => {
    // No pass ran for long enough that starts of a day found no partition of their own.
    const day = new Date(Date.now() + 20 * DAY_MS);
    const stranded = await insertRecord(t.dataSource, clientId, connection, day);
    expect(await partitionOf('verifications', stranded)).toBe('verifications_default');
    const [{ made }] = await t.dataSource.query<Array<{ made: number }>>(
      'SELECT ensure_daily_partitions($1::date - 1, $1::date + 1) AS made',
      [day.toISOString().slice(0, 10)],
    );
    expect(made).toBe(2);
    expect(await partitionOf('verifications', stranded)).toBe('verifications_default');
    const [{ name }] = await t.dataSource.query<Array<{ name: string | null }>>(
      'SELECT to_regclass($1)::text AS name',
      [`verifications_p${utcDay(new Date(day.getTime() + DAY_MS))}`],
    );
    expect(name).not.toBeNull();
    await t.dataSource.query('DELETE FROM verifications WHERE id = $1', [stranded]);
  });

  it('should skip a pass while another replica holds the retention lock', async () => {
    const runner = t.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      await runner.query('SELECT pg_advisory_xact_lock(724104312)');
      await expect(job.run()).resolves.toBeUndefined();
      await runner.commitTransaction();
    } finally {
      await runner.release();
    }
    await expect(job.run()).resolves.toBeDefined();
  });
});

describe('The partitioning migration on a database with data', () => {
  const name = `pwl_retention_${randomBytes(4).toString('hex')}`;
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  const config = loadConfig({ ...process.env, DATABASE_URL: url.toString() });
  const migrationsDir = join(__dirname, '../../src/database/migrations');
  // By file, as the service loads them (MIGRATIONS_GLOB): those before the partitioning one, then all.
  const migrations = readdirSync(migrationsDir)
    .filter((file) => /^\d+-.*\.ts$/.test(file))
    .sort()
    .map((file) => join(migrationsDir, file));
  const partitioning = migrations.findIndex((file) => file.endsWith('-DailyPartitionsForRetention.ts'));
  const open = (list: string[]) =>
    new DataSource({
      ...dataSourceOptions(config, { noTimeouts: true }),
      logging: false,
      migrations: list,
    }).initialize();

  afterAll(() => adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));

  it('should keep the records in use and their outbox rows and attempts, and set the rest aside until retention', async () => {
    expect(partitioning).toBeGreaterThan(0);
    await adminQuery(`CREATE DATABASE "${name}"`);
    const before = await open(migrations.slice(0, partitioning));
    await before.runMigrations({ transaction: 'each' });
    const { clientId } = await createClient(before);
    const connection = await createConnection(before, 'email');
    const legacyId = () => randomBytes(12).toString('hex');
    const live = await insertRecord(before, clientId, connection, new Date(), legacyId());
    await before.query(
      `INSERT INTO delivery_outbox (verification_id, queue, payload) VALUES ($1, 'email', '{"verificationId":"x"}')`,
      [live],
    );
    const spent = await insertRecord(before, clientId, connection, new Date(Date.now() - 3 * DAY_MS), legacyId());
    await before.destroy();

    const after = await open(migrations);
    try {
      expect((await after.runMigrations({ transaction: 'each' })).map((m) => m.name)).toContain(
        'DailyPartitionsForRetention1795653000000',
      );
      const ids = async (table: string, column = 'id') =>
        (await after.query<Array<{ id: string }>>(`SELECT ${column} AS id FROM ${table}`)).map((row) => row.id).sort();
      expect(await ids('verifications')).toEqual([live]);
      expect(await ids('delivery_attempts', 'verification_id')).toEqual([live]);
      expect(await ids('delivery_outbox', 'verification_id')).toEqual([live]);
      expect(await ids('verifications_legacy')).toEqual([live, spent].sort());

      const pass = async (retentionDays: number) => {
        const cfg = loadConfig({ ...process.env, DATABASE_URL: url.toString(), RETENTION_DAYS: String(retentionDays) });
        return new RetentionJob(after, { now: () => new Date() }, cfg).run();
      };
      expect(await pass(7)).toMatchObject({ legacyDropped: false });
      expect(await pass(1)).toMatchObject({ legacyDropped: false }); // the live record is newer than a day
      await after.query(`UPDATE verifications_legacy SET created_at = now() - interval '2 days'`);
      expect(await pass(1)).toMatchObject({ legacyDropped: true });
      const [{ legacy }] = await after.query<Array<{ legacy: string | null }>>(
        `SELECT to_regclass('verifications_legacy')::text AS legacy`,
      );
      expect(legacy).toBeNull();

      // An outbox row left pointing into a day past retention (a relay was down for that long) goes with the day.
      const threeDaysAgo = new Date(Date.now() - 3 * DAY_MS);
      await after.query('SELECT ensure_daily_partitions($1::date, $1::date)', [
        threeDaysAgo.toISOString().slice(0, 10),
      ]);
      const stranded = await insertRecord(after, clientId, connection, threeDaysAgo);
      await after.query(`INSERT INTO delivery_outbox (verification_id, queue, payload) VALUES ($1, 'email', '{}')`, [
        stranded,
      ]);
      expect(await pass(1)).toMatchObject({ daysDropped: 1 });
      expect(await ids('verifications')).toEqual([live]);
      expect(await ids('delivery_outbox', 'verification_id')).toEqual([live]);
    } finally {
      await after.destroy();
    }
  });
});

describe('A retention pass beside requests that hold locks', () => {
  const name = `pwl_retention_${randomBytes(4).toString('hex')}`;
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  const config = loadConfig({ ...process.env, DATABASE_URL: url.toString() });
  let db: DataSource;
  let job: RetentionJob;

  beforeAll(async () => {
    await adminQuery(`CREATE DATABASE "${name}"`);
    db = await new DataSource({ ...dataSourceOptions(config), logging: false }).initialize();
    await db.runMigrations({ transaction: 'each' });
    job = new RetentionJob(db, { now: () => new Date() }, config);
  });

  afterAll(async () => {
    await db?.destroy();
    await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  });

  /** The relations another session holds or waits for in ACCESS EXCLUSIVE mode (a DROP TABLE takes that). */
  const exclusiveLocks = () =>
    db.query<Array<{ relname: string; granted: boolean }>>(
      `SELECT c.relname, l.granted FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
        WHERE l.mode = 'AccessExclusiveLock' AND c.relname IN ('clients', 'connections') AND l.pid <> pg_backend_pid()`,
    );

  it('should give up a step that waits on a request before the request could be chosen as a deadlock victim', async () => {
    // A new database's partitioning migration leaves empty pre-partitioning tables, due to be dropped by the pass.
    const [{ legacy }] = await db.query<Array<{ legacy: string | null }>>(
      `SELECT to_regclass('verifications_legacy')::text AS legacy`,
    );
    expect(legacy).toBe('verifications_legacy');
    // A start's INSERT checks its record's foreign keys one table after the other: it has a lock on clients...
    const request = db.createQueryRunner();
    await request.connect();
    try {
      await request.startTransaction();
      await request.query('LOCK TABLE clients IN ROW SHARE MODE');
      const passing = job.run();
      // ... while the pass's DROP of those tables (whose foreign keys point at both) took connections and waits for it ...
      let locks: Array<{ relname: string; granted: boolean }> = [];
      for (let tries = 0; tries < 100 && !locks.some((l) => !l.granted); tries++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        locks = await exclusiveLocks();
      }
      expect(locks).toEqual(
        expect.arrayContaining([
          { relname: 'connections', granted: true },
          { relname: 'clients', granted: false },
        ]),
      );
      // ... and now needs connections: each waits for the other. The pass must give way, not the request.
      await expect(request.query('LOCK TABLE connections IN ROW SHARE MODE')).resolves.toBeDefined();
      await request.commitTransaction();
      await expect(passing).resolves.toMatchObject({
        legacyDropped: false,
        deferred: ['drop pre-partitioning tables'],
      });
    } finally {
      await request.release();
    }
    // Without the request in its way, the next pass drops them.
    await expect(job.run()).resolves.toMatchObject({ legacyDropped: true, deferred: [] });
  });
});
