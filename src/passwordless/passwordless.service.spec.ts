import { ApiError } from '../common/api-error';
import type { RandomSource } from '../common/random.source';
import { loadConfig } from '../config/app-config';
import { PASSWORDLESS_OTP_GRANT, type ClientEntity } from '../clients/client.entity';
import { QueueName, type DeliveryJobData } from '../delivery/delivery.constants';
import type { StartLimiter } from '../rate-limit/start.limiter';
import type { ConnectionEntity } from '../verification/connection.entity';
import type { ConnectionsRepository } from '../verification/connections.repository';
import { SecretBox } from '../verification/secret-box';
import { SecretHasher } from '../verification/secret-hasher';
import { VerificationSecrets } from '../verification/verification-secrets';
import type { VerificationsRepository } from '../verification/verifications.repository';
import { PasswordlessService } from './passwordless.service';
import { StartAdmission } from './start-admission';
import type { DeliveryBacklogMonitor } from '../delivery/delivery-backlog.monitor';

describe(PasswordlessService.name, () => {
  const config = loadConfig({ NODE_ENV: 'test', CODE_HASH_SECRET: 'x'.repeat(40) });
  const now = new Date('2026-11-25T12:00:00Z');
  const client = {
    clientId: 'client-1',
    grantTypes: [PASSWORDLESS_OTP_GRANT],
    connections: ['email', 'sms'],
    callbacks: ['https://app.example/cb'],
  } as ClientEntity;
  const connections: Record<string, ConnectionEntity> = {
    email: {
      name: 'email',
      strategy: 'email',
      codeLength: 6,
      codeLifetimeSeconds: 180,
      maxAttempts: 3,
      sender: 'a@b.c',
      templates: {},
      allowedCallingCodes: null,
    },
    sms: {
      name: 'sms',
      strategy: 'sms',
      codeLength: 8,
      codeLifetimeSeconds: 300,
      maxAttempts: 3,
      sender: 'App',
      templates: {},
      allowedCallingCodes: null,
    },
  };

  let created: Parameters<VerificationsRepository['createSupersedingPrevious']>[];
  let admit: jest.Mock;
  let shedding: QueueName[];
  let sut: PasswordlessService;

  beforeEach(() => {
    created = [];
    admit = jest.fn().mockResolvedValue(undefined);
    shedding = [];
    const random = {
      hex: (bytes: number) => 'a'.repeat(2 * bytes),
      digits: (n: number) => '7'.repeat(n),
      token: () => 'link-token',
    } as unknown as RandomSource;
    sut = new PasswordlessService(
      { findByName: (name: string) => Promise.resolve(connections[name] ?? null) } as unknown as ConnectionsRepository,
      {
        createSupersedingPrevious: (...args: Parameters<VerificationsRepository['createSupersedingPrevious']>) => (
          created.push(args),
          Promise.resolve()
        ),
      } as unknown as VerificationsRepository,
      new VerificationSecrets(new SecretHasher(config), new SecretBox(config), random),
      random,
      { now: () => now },
      config,
      { admit: admit } as unknown as StartLimiter,
      new StartAdmission(
        { shedding: (queue: QueueName) => shedding.includes(queue) } as DeliveryBacklogMonitor,
        config,
      ),
    );
  });

  const meta = { ip: '203.0.113.9', requestLanguage: 'fr' };

  it('should store an HMAC, seal the code for the worker and expire after the connection lifetime', async () => {
    const res = await sut.start(client, { connection: 'sms', phone_number: '+14155550123' }, meta);

    expect(res).toEqual({
      // Time-ordered: the clock's milliseconds, then the random part.
      _id: now.getTime().toString(16).padStart(12, '0') + 'a'.repeat(12),
      phone_number: '+14155550123',
      phone_verified: false,
      request_language: 'fr',
    });
    const [record, outbox] = created[0];
    expect(record).toMatchObject({
      send: 'code',
      identifier: '+14155550123',
      requestIp: '203.0.113.9',
      linkTokenHmac: null,
    });
    expect(record.expiresAt).toEqual(new Date(now.getTime() + 300_000));
    expect(record.codeHmac).not.toContain('77777777');
    expect(new SecretHasher(config).matches(record.id, 'code', '77777777', record.codeHmac)).toBe(true);
    expect(outbox.queue).toBe(QueueName.Sms);
    expect(new SecretBox(config).open(record.id, (outbox.payload as DeliveryJobData).sealedSecret)).toEqual({
      code: '77777777',
    });
  });

  it('should default email to a link with the first callback as redirect_uri', async () => {
    await sut.start(
      client,
      { connection: 'email', email: 'Ann@Example.COM', authParams: { scope: 'openid', max_age: 0 } },
      meta,
    );
    const [record, outbox] = created[0];
    expect(record).toMatchObject({
      send: 'link',
      identifier: 'ann@example.com',
      authParams: { scope: 'openid', max_age: '0', redirect_uri: 'https://app.example/cb' },
    });
    expect(new SecretBox(config).open(record.id, (outbox.payload as DeliveryJobData).sealedSecret)).toEqual({
      code: '777777',
      linkToken: 'link-token',
    });
  });

  it.each([
    [
      'a client without the OTP grant',
      { ...client, grantTypes: [] },
      { connection: 'email', email: 'a@b.co' },
      'unauthorized_client',
    ],
    ['an unknown connection', client, { connection: 'github', email: 'a@b.co' }, 'bad.connection'],
    [
      'a connection the client lacks',
      { ...client, connections: ['sms'] },
      { connection: 'email', email: 'a@b.co' },
      'bad.connection',
    ],
    ['a link over SMS', client, { connection: 'sms', phone_number: '+14155550123', send: 'link' as const }, 'bad.send'],
    ['an invalid phone number', client, { connection: 'sms', phone_number: '+1000' }, 'bad.phone_number'],
    [
      'a foreign redirect_uri',
      client,
      { connection: 'email', email: 'a@b.co', authParams: { redirect_uri: 'https://evil.example' } },
      'bad.authParams',
    ],
    [
      'a link for a client without callbacks',
      { ...client, callbacks: [] },
      { connection: 'email', email: 'a@b.co' },
      'bad.authParams',
    ],
  ])('should refuse %s and write nothing', async (_label, who, dto, error) => {
    await expect(sut.start(who, dto, meta)).rejects.toMatchObject({ error } satisfies Partial<ApiError>);
    expect(created).toHaveLength(0);
  });

  it('should write and queue nothing when a limit refuses the start', async () => {
    admit.mockRejectedValue(new ApiError(429, 'too_many_requests', 'Too many requests.'));
    await expect(
      sut.start(client, { connection: 'email', email: 'a@example.com', send: 'code' }, meta),
    ).rejects.toMatchObject({ status: 429 });
    expect(admit).toHaveBeenCalledWith(client, connections.email, 'a@example.com', meta.ip, undefined);
    expect(created).toHaveLength(0);
  });

  it('should refuse with 503 and Retry-After, writing nothing, while its channel sheds starts', async () => {
    shedding = [QueueName.Email];
    await expect(
      sut.start(client, { connection: 'email', email: 'a@example.com', send: 'code' }, meta),
    ).rejects.toMatchObject({
      status: 503,
      error: 'temporarily_unavailable',
      headers: { 'Retry-After': '30' },
    });
    expect(admit).not.toHaveBeenCalled();
    expect(created).toHaveLength(0);
    // The other channel is not held back.
    await expect(sut.start(client, { connection: 'sms', phone_number: '+14155550123' }, meta)).resolves.toMatchObject({
      phone_number: '+14155550123',
    });
  });

  it('should refuse with 503 once START_MAX_IN_FLIGHT starts are in progress, and admit again once they end', () => {
    const bounded = loadConfig({ NODE_ENV: 'test', CODE_HASH_SECRET: 'x'.repeat(40), START_MAX_IN_FLIGHT: '2' });
    const admission = new StartAdmission({ shedding: () => false } as unknown as DeliveryBacklogMonitor, bounded);
    const first = admission.enter(QueueName.Email);
    const second = admission.enter(QueueName.Sms);
    expect(() => admission.enter(QueueName.Email)).toThrow(expect.objectContaining({ status: 503 }));
    first();
    expect(() => admission.enter(QueueName.Email)).not.toThrow();
    second();
  });
});
