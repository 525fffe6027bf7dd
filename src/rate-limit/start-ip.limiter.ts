import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { ipLimitKey } from './ip-limit-key';
import { RefusalMemory } from './refusal-memory';
import { rateLimitHeaders, tooManyRequests } from './rate-limit.response';
import { SlidingWindowStore, type LimitRule } from './sliding-window.store';

/** Where a start is charged: an IP and its hourly limit, and for a trusted backend's user the backend's own IP. */
export interface StartIpCharge {
  ip: string;
  limit: number;
  /** The connecting IP of a start moved to its user's IP: it must have room for this request, but is not charged. */
  movedFrom?: { ip: string; limit: number };
}

/**
 * Auth0's per-IP limit on starts (default 50 per hour). Each process remembers the IPs it refused until their retry
 * time (at most a minute) and refuses them again without asking Redis: per-IP start charges are never refunded.
 */
@Injectable()
export class StartIpLimiter {
  private readonly refusals = new RefusalMemory();

  constructor(
    private readonly store: SlidingWindowStore,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  /** Throws 429 at once if this process refused `ip` (at `limit`) and its retry time has not come. */
  refuseIfRemembered(ip: string, limit: number): void {
    const now = this.clock.now().getTime();
    const refusal = this.refusals.recall(this.rule(ip, limit), now);
    if (refusal) throw tooManyRequests(refusal, now);
  }

  /**
   * Charges one start; throws 429 when an IP is over its limit (the connecting IP's answer first, so a moved start
   * cannot be told from one that was not). Returns Auth0's X-RateLimit-* headers of the charged IP (none without
   * Redis).
   */
  async charge({ ip, limit, movedFrom }: StartIpCharge): Promise<Record<string, string>> {
    const now = this.clock.now().getTime();
    const rules = [this.rule(ip, limit)];
    if (movedFrom) rules.unshift({ ...this.rule(movedFrom.ip, movedFrom.limit), checkOnly: true });
    const decision = await this.store.consume(rules, now, { leading: rules.length });
    if (decision.denied) {
      this.refusals.remember(decision.denied, now);
      throw tooManyRequests(decision.denied, now);
    }
    const charged = decision.states[rules.length - 1];
    return charged ? rateLimitHeaders(charged) : {};
  }

  private rule(ip: string, limit: number): LimitRule {
    return {
      name: 'start-ip',
      key: `start-ip:${ipLimitKey(ip)}`,
      limit,
      windowMs: this.config.rateLimit.startWindowMs,
    };
  }
}
