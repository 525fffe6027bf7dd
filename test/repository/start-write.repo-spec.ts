import { Test, type TestingModule } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CommonModule } from '../../src/common/common.module';
import { ConfigModule } from '../../src/config/config.module';
import { DatabaseModule } from '../../src/database/database.module';
import { OutboxEntity } from '../../src/delivery/outbox.entity';
import { OutboxRepository, type OutboxRow } from '../../src/delivery/outbox.repository';
import { VerificationModule } from '../../src/verification/verification.module';
import { type NewVerification, VerificationsRepository } from '../../src/verification/verifications.repository';
import { createConnection } from '../utils/delivery-helpers';
import { createClient, newVerification, uniqueEmail } from '../utils/factories';

/**
 * The start's write (the start_verifications() SQL function behind VerificationsRepository) and the relay's take of the
 * outbox, against the real schema, without the HTTP app, its guards or Redis.
 */
describe('start write and outbox take (repositories on Postgres)', () => {
  let moduleRef: TestingModule;
  let dataSource: DataSource;
  let verifications: VerificationsRepository;
  let outbox: OutboxRepository;
  let clientId: string;
  let connection: string;

  beforeAll(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [
        ConfigModule,
        CommonModule,
        DatabaseModule.forRoot(),
        VerificationModule,
        TypeOrmModule.forFeature([OutboxEntity]),
      ],
      providers: [OutboxRepository],
    }).compile();
    await moduleRef.init();
    dataSource = moduleRef.get(DataSource);
    verifications = moduleRef.get(VerificationsRepository);
    outbox = moduleRef.get(OutboxRepository);
    ({ clientId } = await createClient(dataSource));
    connection = await createConnection(dataSource, 'email');
  });

  afterAll(() => moduleRef.close());

  const record = (identifier: string): NewVerification => newVerification(clientId, connection, identifier);

  const start = (r: NewVerification) =>
    verifications.createSupersedingPrevious(
      r,
      { queue: 'email', payload: { verificationId: r.id, sealedSecret: 'sealed' } },
      new Date(),
    );

  /** Takes the whole outbox (in batches of `limit`), returning what was taken. */
  const drain = async (limit = 1000): Promise<OutboxRow[]> => {
    const taken: OutboxRow[] = [];
    while ((await outbox.takeBatch(limit, (rows) => Promise.resolve(void taken.push(...rows)))) > 0);
    return taken;
  };

  it('should keep only the latest code live and write one outbox row per start, the superseded one not live', async () => {
    await drain();
    const identifier = uniqueEmail();
    const first = record(identifier);
    const second = record(identifier);
    await start(first);
    await start(second);

    expect((await verifications.findLive(clientId, connection, identifier, new Date()))?.id).toBe(second.id);
    expect((await verifications.findById(first.id))?.supersededAt).toBeInstanceOf(Date);
    const taken = await drain();
    expect(taken.map((row) => [row.verificationId, row.live])).toEqual([
      [first.id, false],
      [second.id, true],
    ]);
    expect(taken[1].payload).toEqual({ verificationId: second.id, sealedSecret: 'sealed' });
  });

  it('should leave exactly one live record when many starts for one identifier commit at once', async () => {
    const identifier = uniqueEmail();
    const records = Array.from({ length: 20 }, () => record(identifier));
    await Promise.all(records.map(start));

    const [counts] = await dataSource.query<{ live: string; total: string }[]>(
      `SELECT count(*) FILTER (WHERE superseded_at IS NULL) AS live, count(*) AS total
         FROM verifications WHERE client_id = $1 AND identifier = $2`,
      [clientId, identifier],
    );
    expect(counts).toEqual({ live: '1', total: '20' });
    const live = await verifications.findLive(clientId, connection, identifier, new Date());
    expect(records.map((r) => r.id)).toContain(live?.id);
  });

  it('should share the outbox between concurrent takers without handing a row to two of them', async () => {
    await drain();
    const written = Array.from({ length: 60 }, () => record(uniqueEmail()));
    await Promise.all(written.map(start));

    const takers = await Promise.all([drain(7), drain(7), drain(7)]);
    const ids = takers.flat().map((row) => row.verificationId);
    expect(ids.sort()).toEqual(written.map((r) => r.id).sort());
    expect(new Set(ids).size).toBe(ids.length);
  });
});
