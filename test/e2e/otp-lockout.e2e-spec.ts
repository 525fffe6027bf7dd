import { Clock } from '../../src/common/clock';
import { QueueName } from '../../src/delivery/delivery.constants';
import { createClient, uniqueEmail, uniqueIp, type TestClient } from '../utils/factories';
import { ManualClock, otpGrant, readSecret } from '../utils/passwordless-flow';
import { QueueInspector } from '../utils/queue-inspector';
import { isolatedRedisPrefix, startTestApp, type TestApp, type TestResponse } from '../utils/test-app';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** RATE_LIMIT_OTP_BACKOFF_MAX_MS by default: how long a victim is held out after an attacker's last guess. */
const MAX_BACKOFF_MS = 15 * MINUTE;

/**
 * Issue 27, finding 3: someone who knows only a victim's email guesses wrong codes from several IPs. Guessing stays
 * under 10 per hour, and the victim gets in within the documented time once the guessing stops.
 */
describe('Lockout by failed attempts (default limits, backoff on)', () => {
  const clock = new ManualClock();
  let t: TestApp;
  let inspector: QueueInspector;
  let web: TestClient;

  beforeAll(async () => {
    t = await startTestApp({
      env: {
        REDIS_PREFIX: isolatedRedisPrefix(),
        TRUST_PROXY: '1',
        RATE_LIMIT_OTP_FAILURES_PER_IP: '50',
        RATE_LIMIT_OTP_FAILURES_PER_IDENTIFIER: '10',
        RATE_LIMIT_OTP_FAILURES_PER_IDENTIFIER_IP: '5',
        RATE_LIMIT_OTP_BACKOFF_AFTER: '3',
      },
      overrides: [{ provide: Clock, useValue: clock }],
    });
    inspector = new QueueInspector(t.config);
    web = await createClient(t.dataSource);
  });

  afterAll(async () => {
    await inspector.close();
    await t.close();
  });

  const guess = (email: string, otp: string, ip: string) =>
    otpGrant(t, web, { username: email, otp, realm: 'email' }, { 'x-forwarded-for': ip });
  const retryAfterMs = (res: TestResponse) => Number(res.headers.get('retry-after')) * 1000;
  const startCode = async (email: string, ip: string) => {
    const res = await t.post(
      '/passwordless/start',
      { client_id: web.clientId, client_secret: web.secret, connection: 'email', email, send: 'code' },
      { 'x-forwarded-for': ip },
    );
    expect(res.status).toBe(200);
    return (await readSecret(t, inspector, res.body._id as string, QueueName.Email)).code;
  };

  it('should count at most 10 wrong guesses in an hour of guessing as fast as allowed from two IPs, and let the victim in within 15 minutes of the last', async () => {
    const victim = uniqueEmail();
    const attackers = [uniqueIp(), uniqueIp()];
    const begun = clock.now().getTime();
    const failures: number[] = [];
    const perIp = new Map<string, number>();
    /** IPs refused by their own identifier + IP limit (5): the attacker goes on from the others. */
    const spent = new Set<string>();
    let turn = 0;
    while (clock.now().getTime() - begun < HOUR) {
      const ip = attackers.filter((a) => !spent.has(a))[turn++ % (attackers.length - spent.size)];
      const res = await guess(victim, '000000', ip);
      if (res.status === 403) {
        failures.push(clock.now().getTime() - begun);
        perIp.set(ip, (perIp.get(ip) ?? 0) + 1);
        continue;
      }
      expect(res.status).toBe(429);
      expect(res.body.error).toBe('too_many_requests');
      if (res.headers.get('x-ratelimit-limit') === '5') spent.add(ip);
      if (spent.size === attackers.length) break;
      if (res.headers.get('x-ratelimit-limit') !== '5') clock.advance(Math.max(1000, retryAfterMs(res)));
    }
    expect(failures.length).toBeLessThanOrEqual(10);
    expect(failures.length).toBeGreaterThanOrEqual(6);
    expect(Math.max(...perIp.values())).toBeLessThanOrEqual(5);

    // The attack stops. The victim asks for a code and is answered 429 at most 15 minutes out; then gets in.
    const lastFailure = begun + failures[failures.length - 1];
    const victimIp = uniqueIp();
    let code = await startCode(victim, victimIp);
    let res = await guess(victim, code, victimIp);
    if (res.status === 429) {
      expect(retryAfterMs(res)).toBeLessThanOrEqual(MAX_BACKOFF_MS);
      clock.advance(retryAfterMs(res));
      code = await startCode(victim, victimIp); // the first code may have expired meanwhile
      res = await guess(victim, code, victimIp);
    }
    expect(res.status).toBe(200);
    expect(clock.now().getTime() - lastFailure).toBeLessThanOrEqual(MAX_BACKOFF_MS + MINUTE);
  });

  it('should not hold back someone who mistypes twice and then enters the right code', async () => {
    const email = uniqueEmail();
    const ip = uniqueIp();
    const code = await startCode(email, ip);
    const wrong = code === '000000' ? '111111' : '000000';
    expect((await guess(email, wrong, ip)).status).toBe(403);
    expect((await guess(email, wrong, ip)).status).toBe(403);
    expect((await guess(email, code, ip)).status).toBe(200);
    // The right code reopened the gate it closed: the next login of this user is not delayed.
    const next = await startCode(email, ip);
    expect((await guess(email, next, ip)).status).toBe(200);
  });
});
