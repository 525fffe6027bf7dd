import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { ipLimitKey } from './ip-limit-key';
import { RefusalMemory } from './refusal-memory';
import { rateLimitHeaders, tooManyRequests } from './rate-limit.response';
import { SlidingWindowStore, type LimitDecision, type LimitRule } from './sliding-window.store';

/** Where a start is charged: an IP and its hourly limit, and for a trusted backend's user the backend's own IP. */
export interface StartIpTarget {
  ip: string;
  limit: number;
  /** The connecting IP of a start moved to its user's IP: it must have room for this request, but is not charged. */
  movedFrom?: { ip: string; limit: number };
}

/**
 * A start's per-IP charge, made exactly once: in the same Redis call as the start's other limits when the start gets
 * that far (StartLimiter.admit), else on its own before the start's error is answered (StartIpChargeInterceptor).
 */
export class StartIpCharge {
  /** Auth0's X-RateLimit-* headers of the charged IP, once the charge was made (none without Redis). */
  headers: Record<string, string> | undefined;

  constructor(readonly target: StartIpTarget) {}

  get made(): boolean {
    return this.headers !== undefined;
  }
}

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
   * Charges one start on its own; throws 429 when an IP is over its limit (the connecting IP's answer first, so a
   * moved start cannot be told from one that was not). Returns Auth0's X-RateLimit-* headers of the charged IP (none
   * without Redis).
   */
  async charge(target: StartIpTarget): Promise<Record<string, string>> {
    const charge = new StartIpCharge(target);
    await this.chargeOnce(charge);
    return charge.headers!;
  }

  /** Makes `charge` on its own unless it was made already; throws 429 as `charge` does. */
  async chargeOnce(charge: StartIpCharge): Promise<void> {
    if (charge.made) return;
    const rules = this.rules(charge);
    this.settle(charge, await this.store.consume(rules, this.clock.now().getTime(), { leading: rules.length }));
  }

  /** The charge's rules, to lead a call that also charges other limits (`leading: rules.length`). */
  rules({ target: { ip, limit, movedFrom } }: StartIpCharge): LimitRule[] {
    const rules = [this.rule(ip, limit)];
    if (movedFrom) rules.unshift({ ...this.rule(movedFrom.ip, movedFrom.limit), checkOnly: true });
    return rules;
  }

  /**
   * Records the outcome of a call led by the charge's rules: the charged IP's headers, or (remembered, and thrown)
   * the 429 of an IP over its limit.
   */
  settle(charge: StartIpCharge, decision: LimitDecision): void {
    const now = this.clock.now().getTime();
    const count = charge.target.movedFrom ? 2 : 1;
    const ipState = decision.states[count - 1];
    charge.headers = ipState ? rateLimitHeaders(ipState) : {};
    const denied = decision.denied;
    if (denied && decision.states.indexOf(denied.state) < count) {
      this.refusals.remember(denied, now);
      throw tooManyRequests(denied, now);
    }
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
