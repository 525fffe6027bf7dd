import type { ClientEntity } from '../../src/clients/client.entity';
import { Clock } from '../../src/common/clock';
import { OtpAttemptLimiter, type OtpAttemptSubject } from '../../src/rate-limit/otp-attempt.limiter';
import { uniqueEmail, uniqueIp } from '../utils/factories';
import { ManualClock } from '../utils/passwordless-flow';
import { isolatedRedisPrefix, startTestApp, type TestApp } from '../utils/test-app';

const WINDOW_MS = 600_000;

describe(OtpAttemptLimiter.name, () => {
  const clock = new ManualClock();
  const client = {
    clientId: 'otp-client',
    authMethod: 'client_secret_post',
    rateLimits: {},
  } as unknown as ClientEntity;
  let t: TestApp;
  let sut: OtpAttemptLimiter;

  beforeAll(async () => {
    t = await startTestApp({
      env: {
        REDIS_PREFIX: isolatedRedisPrefix(),
        RATE_LIMIT_OTP_FAILURES_PER_IDENTIFIER: '3',
        RATE_LIMIT_OTP_FAILURES_PER_IP: '5',
        RATE_LIMIT_OTP_WINDOW_MS: String(WINDOW_MS),
      },
      overrides: [{ provide: Clock, useValue: clock }],
    });
    sut = t.app.get(OtpAttemptLimiter);
  });

  afterAll(() => t.close());

  const subject = (overrides: Partial<OtpAttemptSubject> = {}): OtpAttemptSubject => ({
    client,
    ip: uniqueIp(),
    connection: 'email',
    identifier: uniqueEmail(),
    ...overrides,
  });

  it('should refuse a 4th failed attempt on an identifier from any IP with Auth0’s 429, until the window slides', async () => {
    const identifier = uniqueEmail();
    for (let i = 0; i < 3; i++) await sut.begin(subject({ identifier }));
    const refused = await sut.begin(subject({ identifier })).catch((err: unknown) => err);
    expect(refused).toMatchObject({
      status: 429,
      error: 'too_many_requests',
      headers: { 'X-RateLimit-Limit': '3', 'X-RateLimit-Remaining': '0' },
    });
    expect(Number((refused as { headers: Record<string, string> }).headers['Retry-After'])).toBeLessThanOrEqual(
      WINDOW_MS / 1000,
    );

    clock.advance(WINDOW_MS);
    await expect(sut.begin(subject({ identifier }))).resolves.toBeDefined();
  });

  it('should not count successful attempts', async () => {
    const identifier = uniqueEmail();
    for (let i = 0; i < 10; i++) await (await sut.begin(subject({ identifier }))).succeeded();
    await expect(sut.begin(subject({ identifier }))).resolves.toBeDefined();
  });

  it('should limit failures per IP across identifiers, keying IPv6 by /64', async () => {
    for (let i = 0; i < 5; i++) await sut.begin(subject({ ip: `2001:db8:aa:1::${i + 1}` }));
    await expect(sut.begin(subject({ ip: '2001:db8:aa:1:ffff::9' }))).rejects.toMatchObject({ status: 429 });
    await expect(sut.begin(subject({ ip: '2001:db8:aa:2::1' }))).resolves.toBeDefined();
  });

  it('should admit exactly the limit when guesses arrive concurrently', async () => {
    const identifier = uniqueEmail();
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => sut.begin(subject({ identifier }))));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
  });

  it('should honour a client’s override', async () => {
    const strict = { ...client, rateLimits: { otpFailuresPerIdentifier: 1 } } as ClientEntity;
    const identifier = uniqueEmail();
    await sut.begin(subject({ client: strict, identifier }));
    await expect(sut.begin(subject({ client: strict, identifier }))).rejects.toMatchObject({ status: 429 });
  });
});
