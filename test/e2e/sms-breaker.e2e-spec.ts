import { Logger } from '@nestjs/common';
import { Clock } from '../../src/common/clock';
import { SmsConversionBreaker } from '../../src/rate-limit/sms-conversion.breaker';
import { createClient, uniqueIp, type TestClient } from '../utils/factories';
import { ManualClock } from '../utils/passwordless-flow';
import { isolatedRedisPrefix, startTestApp, type TestApp } from '../utils/test-app';

const COOL_OFF_MS = 600_000;

describe('SMS conversion breaker', () => {
  const clock = new ManualClock();
  let t: TestApp;
  let client: TestClient;
  let breaker: SmsConversionBreaker;

  beforeAll(async () => {
    t = await startTestApp({
      env: {
        REDIS_PREFIX: isolatedRedisPrefix(),
        TRUST_PROXY: '1',
        SMS_ALLOWED_CALLING_CODES: '*',
        SMS_BREAKER_MIN_SENDS: '4',
        SMS_BREAKER_MIN_CONVERSION: '0.5',
        SMS_BREAKER_COOLOFF_MS: String(COOL_OFF_MS),
      },
      overrides: [{ provide: Clock, useValue: clock }],
    });
    client = await createClient(t.dataSource);
    breaker = t.app.get(SmsConversionBreaker);
  });

  afterAll(() => t.close());

  /** A send from an IP of its own unless `ip` is given (SMS_BREAKER_SENDS_PER_IP counts per IP). */
  const send = (phone: string, ip = uniqueIp()) =>
    t.post(
      '/passwordless/start',
      { client_id: client.clientId, client_secret: client.secret, connection: 'sms', phone_number: phone },
      { 'x-forwarded-for': ip },
    );

  it('should pause a prefix whose codes are never verified, log the trip, and reopen after the cool-off', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    // One country per test (here Germany), so the country-level breaker sees only this test's traffic.
    const phones = Array.from({ length: 6 }, (_, i) => `+49151234567${i}1`);
    for (const phone of phones.slice(0, 4)) expect((await send(phone)).status).toBe(200);
    const tripped = warn.mock.calls
      .map(([line]) => line as Record<string, unknown>)
      .filter((line) => line?.msg === 'sms_breaker_tripped');
    expect(tripped).toHaveLength(2);
    expect(tripped).toContainEqual(
      expect.objectContaining({ type: 'limit_phone', scope: 'prefix', value: '+49151', sent: 4, verified: 0 }),
    );
    warn.mockRestore();

    const paused = await send(phones[4]);
    expect(paused.status).toBe(429);
    expect(paused.body.error).toBe('too_many_requests');
    expect(Number(paused.headers.get('retry-after'))).toBe(COOL_OFF_MS / 1000);
    expect(paused.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(await t.dataSource.query('SELECT 1 FROM verifications WHERE identifier = $1', [phones[4]])).toHaveLength(0);

    clock.advance(COOL_OFF_MS + 1000);
    expect((await send(phones[4])).status).toBe(200);
    expect((await send(phones[5])).status).toBe(200);
  });

  it('should stay closed while enough codes are verified (3 in 4, threshold 1 in 2)', async () => {
    const phones = Array.from({ length: 8 }, (_, i) => `+33612345${String(i).padStart(3, '0')}`);
    for (const [i, phone] of phones.entries()) {
      expect((await send(phone)).status).toBe(200);
      if (i % 4 !== 3) await breaker.recordVerified(phone);
    }
    expect((await send('+33612345999')).status).toBe(200);
  });

  it('should not let one IP trip a prefix or a country for everyone: only its first 3 sends in the window count', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    const ip = uniqueIp();
    // Ten unverified codes to random numbers of one Italian prefix from one IP (threshold: 4 sends, 1 in 2 verified).
    for (let i = 0; i < 10; i++) expect((await send(`+39347${String(1000000 + i * 7919)}`, ip)).status).toBe(200);
    const trips = warn.mock.calls.filter(
      ([line]) => (line as { msg?: string } | undefined)?.msg === 'sms_breaker_tripped',
    );
    expect(trips).toHaveLength(0);
    warn.mockRestore();
    expect((await send('+393471234567')).status).toBe(200);
  });
});
