import { Injectable, Logger } from '@nestjs/common';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { ipLimitKey } from './ip-limit-key';
import { metrics } from '../observability/metrics';
import { pausedUntil } from './rate-limit.response';
import { SmsDestinationPolicy, type SmsDestination } from './sms-destination.policy';
import { SlidingWindowStore, type LimitDecision, type LimitRule } from './sliding-window.store';

interface Scope {
  kind: 'country' | 'prefix';
  value: string;
}

const scopesOf = (destination: SmsDestination): Scope[] => [
  { kind: 'country', value: destination.callingCode },
  { kind: 'prefix', value: destination.prefix },
];
const sentKey = (s: Scope) => `sms-sent:${s.kind}:${s.value}`;
const verifiedKey = (s: Scope) => `sms-verified:${s.kind}:${s.value}`;
const openKey = (s: Scope) => `sms-breaker:${s.kind}:${s.value}`;

/**
 * Pumped codes are never entered: a country or prefix whose verified/sent ratio over the sliding window falls below
 * SMS_BREAKER_MIN_CONVERSION (once SMS_BREAKER_MIN_SENDS codes were sent) is paused for SMS_BREAKER_COOLOFF_MS.
 * Tripping clears the window, so after the cool-off the scope starts afresh and must fail again to re-trip.
 */
@Injectable()
export class SmsConversionBreaker {
  private readonly logger = new Logger(SmsConversionBreaker.name);

  constructor(
    private readonly store: SlidingWindowStore,
    private readonly destinations: SmsDestinationPolicy,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  /** Throws 429 while either scope of `destination` is paused. */
  async assertClosed(destination: SmsDestination, nowMs: number): Promise<void> {
    const until = await this.store.activeUntil(scopesOf(destination).map(openKey), nowMs);
    if (until !== null) {
      const headers = {
        'X-RateLimit-Limit': '0',
        'X-RateLimit-Remaining': '0',
        'X-RateLimit-Reset': String(Math.ceil(until / 1000)),
      };
      throw pausedUntil(until, nowMs, headers, 'sms-breaker');
    }
  }

  /**
   * Rules charged with the send's other limits: this IP's sends, and a read of each scope's counts. The send itself
   * is counted afterwards, by `evaluate`, and only for an IP within its share.
   */
  countingRules(destination: SmsDestination, ip: string): LimitRule[] {
    const windowMs = this.config.smsGuard.breaker.windowMs;
    return [
      { name: 'sms-sent-ip', key: `sms-sent-ip:${ipLimitKey(ip)}`, limit: 0, windowMs },
      ...scopesOf(destination).flatMap((scope): LimitRule[] => [
        { name: 'sms-sent', key: sentKey(scope), limit: 0, windowMs, cost: 0 },
        { name: 'sms-verified', key: verifiedKey(scope), limit: 0, windowMs, cost: 0 },
      ]),
    ];
  }

  /**
   * After a send was admitted: counts it, unless its IP already sent SMS_BREAKER_SENDS_PER_IP in the window (an IP
   * spraying numbers is the per-IP limit's business and must not pause a whole country for everyone), then trips the
   * scopes whose conversion is too low.
   */
  async evaluate(destination: SmsDestination, decision: LimitDecision, nowMs: number): Promise<void> {
    const { minSends, minConversion, coolOffMs, sendsPerIp, windowMs } = this.config.smsGuard.breaker;
    const ipSends = decision.states.find((s) => s.rule.name === 'sms-sent-ip')?.count;
    if (ipSends === undefined || ipSends > sendsPerIp) return;
    const scopes = scopesOf(destination);
    const counted = await this.store.consume(
      scopes.map((scope): LimitRule => ({ name: 'sms-sent', key: sentKey(scope), limit: 0, windowMs })),
      nowMs,
    );
    const count = (key: string) => [...counted.states, ...decision.states].find((s) => s.rule.key === key)?.count;
    for (const scope of scopes) {
      const sent = count(sentKey(scope));
      const verified = count(verifiedKey(scope)) ?? 0;
      if (sent === undefined || sent < minSends || verified / sent >= minConversion) continue;
      if (!(await this.store.setUntil(openKey(scope), nowMs + coolOffMs, nowMs))) continue;
      await this.store.clear([sentKey(scope), verifiedKey(scope)]);
      // One structured line per trip (only the replica that set the flag logs it): alert on `sms_breaker_tripped`.
      metrics()?.breakerTripped(scope.kind, scope.value, nowMs + coolOffMs);
      this.logger.warn({
        msg: 'sms_breaker_tripped',
        type: 'limit_phone',
        scope: scope.kind,
        value: scope.value,
        sent,
        verified,
        conversion: verified / sent,
        coolOffMs,
      });
    }
  }

  /**
   * Call when an SMS code was verified (the OTP grant on /oauth/token succeeded for realm sms). Fails open: a Redis
   * outage only makes the breaker more cautious, never a login fail.
   */
  async recordVerified(phoneNumber: string): Promise<void> {
    const now = this.clock.now().getTime();
    const windowMs = this.config.smsGuard.breaker.windowMs;
    const rules = scopesOf(this.destinations.destinationOf(phoneNumber)).map((scope): LimitRule => ({
      name: 'sms-verified',
      key: verifiedKey(scope),
      limit: 0,
      windowMs,
    }));
    await this.store.consume(rules, now);
  }
}
