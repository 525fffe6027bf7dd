import { Test, type TestingModule } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { CommonModule } from '../../src/common/common.module';
import { ConfigModule } from '../../src/config/config.module';
import { DatabaseModule } from '../../src/database/database.module';
import { VerificationModule } from '../../src/verification/verification.module';
import { type SettleAttempt, VerificationsRepository } from '../../src/verification/verifications.repository';
import { createConnection } from '../utils/delivery-helpers';
import { createClient, newVerification, uniqueEmail } from '../utils/factories';

/**
 * The statement that settles an attempt at a code and, when it spends the code, logs the user in (one commit per
 * login), against the real schema, without the HTTP app or Redis.
 */
describe('settling an attempt and logging in (repositories on Postgres)', () => {
  let moduleRef: TestingModule;
  let dataSource: DataSource;
  let verifications: VerificationsRepository;
  let clientId: string;
  let connection: string;

  beforeAll(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [ConfigModule, CommonModule, DatabaseModule.forRoot(), VerificationModule],
    }).compile();
    await moduleRef.init();
    dataSource = moduleRef.get(DataSource);
    verifications = moduleRef.get(VerificationsRepository);
    ({ clientId } = await createClient(dataSource));
    connection = await createConnection(dataSource, 'email');
  });

  afterAll(() => moduleRef.close());

  const started = async (identifier: string, client = clientId): Promise<string> => {
    const record = newVerification(client, connection, identifier);
    await verifications.createSupersedingPrevious(
      record,
      { queue: 'email', payload: { verificationId: record.id, sealedSecret: 'sealed' } },
      new Date(),
    );
    return record.id;
  };
  const newUserId = () => `email|${randomBytes(12).toString('hex')}`;
  const login = (matched: boolean): SettleAttempt => ({
    matched,
    maxAttempts: 3,
    now: new Date(),
    login: { newUserId: newUserId() },
  });
  const usersOf = (identifier: string) =>
    dataSource.query<{ user_id: string; verified: boolean }[]>(
      'SELECT user_id, verified FROM users WHERE connection = $1 AND identifier = $2',
      [connection, identifier],
    );

  it('should spend a right code and create its user in the same statement, then find that user on the next login', async () => {
    const identifier = uniqueEmail();
    const first = await verifications.settleAttempt(await started(identifier), login(true));
    expect(first).toEqual({
      settled: true,
      login: { user_id: expect.stringMatching(/^email\|/), connection, identifier, verified: true },
    });
    expect((await verifications.findLive(clientId, connection, identifier, new Date()))?.id).toBeUndefined();

    const second = await verifications.settleAttempt(await started(identifier), login(true));
    expect(second.login?.user_id).toBe(first.login?.user_id);
    expect(await usersOf(identifier)).toEqual([{ user_id: first.login?.user_id, verified: true }]);
  });

  it('should count a wrong code without logging anyone in, and only prove a code when no login is asked for', async () => {
    const identifier = uniqueEmail();
    const id = await started(identifier);
    expect(await verifications.settleAttempt(id, login(false))).toEqual({ settled: true });
    expect(await verifications.settleAttempt(id, { matched: true, maxAttempts: 3, now: new Date() })).toEqual({
      settled: true,
    });
    expect(await usersOf(identifier)).toEqual([]);
    expect(await verifications.findById(id)).toMatchObject({ failedAttempts: 1, consumedAt: null });
  });

  it('should let one of many concurrent right attempts spend the code, and create one user', async () => {
    const identifier = uniqueEmail();
    const id = await started(identifier);
    const results = await Promise.all(Array.from({ length: 8 }, () => verifications.settleAttempt(id, login(true))));
    expect(results.filter((r) => r.settled)).toHaveLength(1);
    expect(results.filter((r) => r.login)).toHaveLength(1);
    expect(await usersOf(identifier)).toHaveLength(1);
  });

  it('should create one user when first logins at one identifier through two clients race for it', async () => {
    const identifier = uniqueEmail();
    const { clientId: otherClient } = await createClient(dataSource);
    const ids = await Promise.all([started(identifier), started(identifier, otherClient)]);
    const [a, b] = await Promise.all(ids.map((id) => verifications.settleAttempt(id, login(true))));
    expect(a.login?.user_id).toBeDefined();
    expect(b.login?.user_id).toBe(a.login?.user_id);
    expect(await usersOf(identifier)).toHaveLength(1);
  });

  it('should never count more attempts than the cap under concurrent wrong guesses', async () => {
    const id = await started(uniqueEmail());
    const results = await Promise.all(Array.from({ length: 10 }, () => verifications.settleAttempt(id, login(false))));
    expect(results.filter((r) => r.settled)).toHaveLength(3);
    expect((await verifications.findById(id))?.failedAttempts).toBe(3);
  });
});
