import { CanActivate, createParamDecorator, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  type ThrottlerModuleOptions,
  type ThrottlerRequest,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import type { FastifyReply } from 'fastify';
import type { ReplayMark } from '../clients/assertion-replay.store';
import type { ClientEntity } from '../clients/client.entity';
import { ApiError, invalidClient, temporarilyUnavailable } from '../common/api-error';
import { Clock } from '../common/clock';
import type { RequestWithPrecedingRefusal } from '../common/http-error.filter';
import { AppConfig } from '../config/app-config';
import { endUserIp, FORWARDED_FOR_HEADER, ipLimitKey } from './client-ip';
import { effectiveLimits } from './client-limits';
import { rateLimitHeaders, tooManyRequests } from './rate-limit.response';
import { SlidingWindowStore, type LimitDecision, type LimitRule } from './sliding-window.store';

/**
 * The per-IP charge of one start, made exactly once and in the same Redis call as whatever else the request charges:
 * the start's own limits when it gets that far (StartLimiter), else on its own before its error is answered
 * (HttpErrorFilter's `precedingRefusal`). Either way an IP over its limit gets 429 whatever else the request did, and
 * a successful start makes one Redis round trip for all its limits instead of two (three with private_key_jwt, whose
 * assertion's jti is checked in the same call).
 */
export class PendingIpCharge {
  /** A client assertion's jti, to be recorded as used in the same call (see ClientAuthGuard). */
  replayMark?: ReplayMark;
  /**
   * The connecting IP and limit, once a trusted backend's start moved to its user's IP: it must still have room for
   * this request, as when every start was first charged to it (else a right guess from an IP over its limit would
   * be told apart from a wrong one), but is not charged.
   */
  movedFrom?: { ip: string; limit: number };
  private claimed = false;

  constructor(
    /** The IP charged: the connecting one, or a trusted backend's user's (ForwardedIpLimitGuard). */
    public ip: string,
    public limit: number,
    readonly reply: FastifyReply,
  ) {}

  get settled(): boolean {
    return this.claimed;
  }

  /**
   * Moves the charge to another IP and limit (a trusted backend's user). Without a look at the remembered refusals:
   * the connecting IP is checked first in the script call, and a refusal of the user's IP answered before that check
   * would tell a right guess of the client's credentials from a wrong one.
   */
  moveTo(ip: string, limit: number): void {
    this.movedFrom = { ip: this.ip, limit: this.limit };
    this.ip = ip;
    this.limit = limit;
  }

  /** Marks the charge as made; throws if it already was (each request is charged once). */
  claim(): void {
    if (this.claimed) throw new Error('the per-IP charge of this start was already made');
    this.claimed = true;
  }
}

type LimitedRequest = RequestWithPrecedingRefusal & {
  client?: ClientEntity;
  ipCharge?: PendingIpCharge;
  deferReplayMark?: (mark: ReplayMark) => void;
};

/** Bounds the refusals remembered per replica (one entry per refused IP and limit). */
const MAX_REMEMBERED_REFUSALS = 10_000;
/** A refusal is remembered until its retry time, at most this long, so an operator's reset of a key takes effect. */
const MAX_REFUSAL_MEMORY_MS = 60_000;

/** Charges starts to IPs (Auth0's per-IP limit, default 50 per hour) and sets X-RateLimit-* on the answer. */
@Injectable()
export class StartIpCounter {
  /**
   * Refusals this replica gave, until their retry time (at most MAX_REFUSAL_MEMORY_MS): a refused IP is refused again
   * before any other work (client lookup, signature check) without asking Redis, as it was when the per-IP charge ran
   * first. Exact, because a count can only grow until its retry time (hits leave the window only when their bucket
   * does, and per-IP start charges are never refunded).
   */
  private readonly refusals = new Map<string, { refusal: NonNullable<LimitDecision['denied']>; forgetAtMs: number }>();

  constructor(
    private readonly store: SlidingWindowStore,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  /** Starts the charge of this request to `ip`; throws 429 at once if this replica already refused it. */
  begin(context: ExecutionContext, ip: string, limit: number): PendingIpCharge {
    const request = context.switchToHttp().getRequest<LimitedRequest>();
    const charge = new PendingIpCharge(ip, limit, context.switchToHttp().getResponse<FastifyReply>());
    this.throwIfRefused(charge);
    request.ipCharge = charge;
    // Not with `auth0-forwarded-for`: the charge may move to the forwarded IP once the client is authenticated, and a
    // replayed assertion must not get that far (it would charge an IP of the caller's choosing instead of its own, and
    // an assertion refused for the user's IP must still be spent). The guard then records the jti itself, as before;
    // unlike before, also when the connecting IP turns out to be over its limit (the answer is the same 429).
    if (request.headers[FORWARDED_FOR_HEADER] === undefined)
      request.deferReplayMark = (mark) => (charge.replayMark = mark);
    request.precedingRefusal = () => this.chargeBeforeError(charge);
    return charge;
  }

  /**
   * Charges the IP, and then, all-or-nothing, `rules`; records the deferred assertion jti between the two (a replay
   * charges only the IP, as when authentication failed). Sets X-RateLimit-* from the IP's state. Throws 429 when the
   * IP is over its limit, 401 for a replayed assertion, 503 when a jti cannot be checked (no Redis); otherwise returns
   * the decision on `rules` alone.
   */
  async charge(charge: PendingIpCharge, rules: LimitRule[], now: number): Promise<LimitDecision> {
    charge.claim();
    const { movedFrom, replayMark } = charge;
    const ipRules = [this.rule(charge.ip, charge.limit)];
    if (movedFrom) ipRules.unshift({ ...this.rule(movedFrom.ip, movedFrom.limit), checkOnly: true });
    let decision: LimitDecision;
    try {
      decision = await this.store.consume([...ipRules, ...rules], now, { leading: ipRules.length, once: replayMark });
    } catch (err) {
      // Only a call with a once-key fails: single use cannot be proven without Redis (as in AssertionReplayStore).
      throw temporarilyUnavailable(`jti store unavailable: ${(err as Error).message}`);
    }
    const ipStates = decision.states.slice(0, ipRules.length);
    const { denied } = decision;
    if (denied && ipStates.includes(denied.state)) {
      this.remember(denied.state.rule, denied, now);
      throw tooManyRequests(denied, now);
    }
    const chargedState = ipStates[ipStates.length - 1];
    if (chargedState) void charge.reply.headers(rateLimitHeaders(chargedState));
    if (decision.repeated) throw invalidClient('assertion jti replayed');
    return { allowed: decision.allowed, states: decision.states.slice(ipRules.length), denied };
  }

  /** The refusal that takes precedence over a request's own error, if the charge was not made yet. Never rejects. */
  private async chargeBeforeError(charge: PendingIpCharge): Promise<ApiError | undefined> {
    if (charge.settled) return undefined;
    try {
      await this.charge(charge, [], this.clock.now().getTime());
      return undefined;
    } catch (err) {
      return err instanceof ApiError ? err : undefined;
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

  private throwIfRefused(charge: PendingIpCharge): void {
    const key = refusalKey(this.rule(charge.ip, charge.limit));
    const remembered = this.refusals.get(key);
    if (!remembered) return;
    const now = this.clock.now().getTime();
    if (remembered.forgetAtMs <= now) {
      this.refusals.delete(key);
      return;
    }
    charge.claim();
    throw tooManyRequests(remembered.refusal, now);
  }

  private remember(rule: LimitRule, refusal: NonNullable<LimitDecision['denied']>, now: number): void {
    const key = refusalKey(rule);
    this.refusals.delete(key);
    if (this.refusals.size >= MAX_REMEMBERED_REFUSALS) this.refusals.delete(this.refusals.keys().next().value!);
    this.refusals.set(key, { refusal, forgetAtMs: Math.min(refusal.retryAtMs, now + MAX_REFUSAL_MEMORY_MS) });
  }
}

const refusalKey = (rule: LimitRule) => `${rule.key}|${rule.limit}|${rule.windowMs}`;

/**
 * Runs before client authentication and counts every start against the connecting IP (`req.ip`, which honours
 * X-Forwarded-For when TRUST_PROXY is on), so requests with bad credentials count and are refused too. The charge
 * itself is made later, with the start's other limits or before an error is answered (see PendingIpCharge).
 * A ThrottlerGuard, so the limit comes from ThrottlerModule options and @Throttle; the start needs the charge it sets
 * up (ForwardedIpLimitGuard, StartIpCharge), so the route cannot be @SkipThrottle'd. The counting itself goes to the
 * sliding window, which also gives Auth0's epoch X-RateLimit-Reset.
 */
@Injectable()
export class StartIpLimitGuard extends ThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    private readonly counter: StartIpCounter,
  ) {
    super(options, storage, reflector);
  }

  protected override handleRequest({ context, limit }: ThrottlerRequest): Promise<boolean> {
    this.counter.begin(context, context.switchToHttp().getRequest<LimitedRequest>().ip, limit);
    return Promise.resolve(true);
  }
}

/**
 * Runs after client authentication. A backend calling for its users sends each user's IP in `auth0-forwarded-for`;
 * when the client may do so (see endUserIp), the start moves from the backend's IP to the user's, limited by the
 * client's `startPerIp`. Without this every user of the backend would share one budget.
 */
@Injectable()
export class ForwardedIpLimitGuard implements CanActivate {
  constructor(private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<LimitedRequest>();
    if (!request.client || !request.ipCharge)
      throw new Error('ForwardedIpLimitGuard must run after StartIpLimitGuard and ClientAuthGuard');
    const ip = endUserIp(request, request.client);
    if (ip !== request.ip)
      request.ipCharge.moveTo(
        ip,
        effectiveLimits(this.config.rateLimit.defaults, request.client.rateLimits).startPerIp,
      );
    return true;
  }
}

/** The start's pending per-IP charge (StartIpLimitGuard). */
export const StartIpCharge = createParamDecorator((_data: unknown, context: ExecutionContext): PendingIpCharge => {
  const charge = context.switchToHttp().getRequest<LimitedRequest>().ipCharge;
  if (!charge) throw new Error('StartIpCharge used on a route without StartIpLimitGuard');
  return charge;
});

/** The end user's IP: as the start guards resolved it, else per endUserIp for the authenticated client. */
export const EndUserIp = createParamDecorator((_data: unknown, context: ExecutionContext): string => {
  const request = context.switchToHttp().getRequest<LimitedRequest>();
  return request.ipCharge?.ip ?? (request.client ? endUserIp(request, request.client) : request.ip);
});
