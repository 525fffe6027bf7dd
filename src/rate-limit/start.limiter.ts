import { Injectable } from '@nestjs/common';
import { effectiveLimits } from '../clients/client-rate-limits';
import type { ClientEntity } from '../clients/client.entity';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import type { ConnectionEntity } from '../verification/connection.entity';
import { VerificationsRepository } from '../verification/verifications.repository';
import { identifierKey, tooManyRequests } from './rate-limit.response';
import { SmsConversionBreaker } from './sms-conversion.breaker';
import { SmsDestinationPolicy } from './sms-destination.policy';
import { SlidingWindowStore, type LimitRule } from './sliding-window.store';
import { StartIpLimiter, type StartIpCharge } from './start-ip.limiter';

/**
 * The limits of POST /passwordless/start that need the authenticated client and the validated identifier: a resend
 * cooldown and an hourly cap per email/phone (across clients: IP rotation must not reset them), a budget per client,
 * and for SMS the destination allowlist, country/prefix budgets and the conversion breaker. Called by the service
 * after validation and before anything is written, so a rejected start creates no record and queues nothing.
 * The limits depend only on the identifier, never on whether a user exists, so they reveal nothing about accounts.
 */
@Injectable()
export class StartLimiter {
  constructor(
    private readonly store: SlidingWindowStore,
    private readonly destinations: SmsDestinationPolicy,
    private readonly breaker: SmsConversionBreaker,
    private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly verifications: VerificationsRepository,
    private readonly ipLimiter: StartIpLimiter,
  ) {}

  /**
   * Throws 400 for a disallowed SMS destination and 429 (with Auth0's headers) when a limit is reached. A pending
   * per-IP charge goes first in the same Redis call: an IP over its limit charges nothing else.
   */
  async admit(
    client: ClientEntity,
    connection: ConnectionEntity,
    identifier: string,
    ip: string,
    ipCharge?: StartIpCharge,
  ): Promise<void> {
    const destination =
      connection.strategy === 'sms' ? this.destinations.allowedDestination(connection, identifier) : undefined;
    const now = this.clock.now().getTime();
    const limits = effectiveLimits(this.config.rateLimit.defaults, client.rateLimits);
    const windowMs = this.config.rateLimit.startWindowMs;
    const id = identifierKey(`start-id:${connection.strategy}`, identifier);
    const rules: LimitRule[] = [
      { name: 'start-identifier', key: id, limit: limits.startPerIdentifier, windowMs },
      { name: 'start-client', key: `start-client:${client.clientId}`, limit: limits.startPerClient, windowMs },
    ];
    if (limits.startIdentifierCooldownMs > 0) {
      rules.push({
        name: 'start-identifier-cooldown',
        key: `${id}:cooldown`,
        limit: 1,
        windowMs: limits.startIdentifierCooldownMs,
      });
    }
    if (destination) {
      await this.breaker.assertClosed(destination, now);
      rules.push(...this.destinations.budgetRules(destination), ...this.breaker.countingRules(destination, ip));
    }
    const leading = ipCharge && !ipCharge.made ? this.ipLimiter.rules(ipCharge) : [];
    const decision = await this.store.consume([...leading, ...rules], now, { leading: leading.length });
    if (leading.length) this.ipLimiter.settle(ipCharge!, decision);
    if (decision.denied) throw tooManyRequests(decision.denied, now);
    if (decision.unavailable && this.config.rateLimit.postgresFallback.has('start-identifier')) {
      const cooldown = rules.find((rule) => rule.name === 'start-identifier-cooldown');
      await this.startsFloor(identifier, rules[0], cooldown, now);
    }
    if (destination) await this.breaker.evaluate(destination, decision, now);
  }

  /**
   * While Redis is unavailable: the identifier's starts per window and its cooldown, counted from its records in
   * Postgres (concurrent starts for one identifier can each pass before the others are written; the guessing bound
   * itself is the failure floor's, which is exact).
   */
  private async startsFloor(identifier: string, perWindow: LimitRule, cooldown: LimitRule | undefined, now: number) {
    const { starts, oldestAt, latestAt } = await this.verifications.startsSince(
      identifier,
      new Date(now - perWindow.windowMs),
    );
    const refuse = (rule: LimitRule, retryAtMs: number) => {
      const state = { rule, count: rule.limit, remaining: 0, resetAtMs: retryAtMs, bucket: 0 };
      return tooManyRequests({ state, retryAtMs }, now);
    };
    if (starts >= perWindow.limit) throw refuse(perWindow, oldestAt!.getTime() + perWindow.windowMs);
    if (cooldown && latestAt && latestAt.getTime() > now - cooldown.windowMs) {
      throw refuse(cooldown, latestAt.getTime() + cooldown.windowMs);
    }
  }
}
