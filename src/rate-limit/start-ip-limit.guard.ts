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
import type { ClientEntity } from '../clients/client.entity';
import type { ApiError } from '../common/api-error';
import { Clock } from '../common/clock';
import type { RequestWithPrecedingRefusal } from '../common/http-error.filter';
import { RandomSource } from '../common/random.source';
import { AppConfig } from '../config/app-config';
import { endUserIp, ipLimitKey } from './client-ip';
import { effectiveLimits } from './client-limits';
import { rateLimitHeaders, tooManyRequests } from './rate-limit.response';
import { SlidingWindowStore, type LimitState } from './sliding-window.store';

/**
 * The per-IP charge of one start, possibly still in flight. Every answer to the request waits for `refusal` first (the
 * start limiter on success, HttpErrorFilter on any error), so an IP over its limit gets 429 whatever else it sent.
 */
export interface IpAdmission {
  /** The end user's IP the start is charged to. */
  ip: string;
  /** Closed by the per-IP call when it refuses: limits sent before its reply check it (ConsumeGate). */
  gate?: string;
  /** Resolves once the per-IP decision is known (headers set): the 429 to answer, or undefined. Never rejects. */
  refusal: Promise<ApiError | undefined>;
}

type LimitedRequest = RequestWithPrecedingRefusal & { client?: ClientEntity; endUserIp?: string; ipCharge?: LimitState; ipAdmission?: IpAdmission };

/**
 * A closed gate must outlive the gap between a request's per-IP call and its start-limit call (guards, validation,
 * cached lookups: milliseconds); it is deleted when checked, so the TTL only bounds gates of requests that failed
 * before their limits were sent.
 */
const GATE_TTL_MS = 10_000;

/** Charges one start to `ip` (Auth0's per-IP limit, default 50 per hour) and sets X-RateLimit-* on the answer. */
@Injectable()
export class StartIpCounter {
  /** Gate keys are this process's nonce and a counter: unique across replicas without randomness per request. */
  private readonly gatePrefix: string;
  private gates = 0;

  constructor(
    private readonly store: SlidingWindowStore,
    private readonly config: AppConfig,
    private readonly clock: Clock,
    random: RandomSource,
  ) {
    this.gatePrefix = `start-ip-gate:${random.hex(8)}:`;
  }

  /** Sends the charge without waiting for its reply; `request.ipAdmission` holds the pending decision. */
  begin(context: ExecutionContext, ip: string, limit: number): IpAdmission {
    const request = context.switchToHttp().getRequest<LimitedRequest>();
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const now = this.clock.now().getTime();
    const gate = `${this.gatePrefix}${++this.gates}`;
    const rule = { name: 'start-ip', key: `start-ip:${ipLimitKey(ip)}`, limit, windowMs: this.config.rateLimit.startWindowMs };
    const refusal = this.store.consume([rule], now, { closesOn: gate, ttlMs: GATE_TTL_MS }).then((decision) => {
      if (decision.denied) return tooManyRequests(decision.denied, now);
      request.ipCharge = decision.states[0];
      if (decision.states[0]) void reply.headers(rateLimitHeaders(decision.states[0]));
      return undefined;
    });
    request.endUserIp = ip;
    request.ipAdmission = { ip, gate, refusal };
    request.precedingRefusal = refusal;
    return request.ipAdmission;
  }

  /** Charges `ip` and waits for the decision: throws 429 when refused. */
  async charge(context: ExecutionContext, ip: string, limit: number): Promise<void> {
    const refusal = await this.begin(context, ip, limit).refusal;
    if (refusal) throw refusal;
  }

  /** Gives back the charge made for this request (it is being moved to another IP). */
  async refund(context: ExecutionContext): Promise<void> {
    const charge = context.switchToHttp().getRequest<LimitedRequest>().ipCharge;
    if (charge) await this.store.refund(charge);
  }
}

/**
 * Runs before client authentication and counts every start against the connecting IP (`req.ip`, which honours
 * X-Forwarded-For when TRUST_PROXY is on), so requests with bad credentials count and are refused early too.
 * A ThrottlerGuard, so the limit comes from ThrottlerModule options and @Throttle/@SkipThrottle work as usual; the
 * counting itself goes to the sliding window, which also gives Auth0's epoch X-RateLimit-Reset and refunds.
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

  /** Does not wait for the reply: the start's other limits go out behind it, gated (see IpAdmission). */
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
  constructor(
    private readonly counter: StartIpCounter,
    private readonly config: AppConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<LimitedRequest>();
    if (!request.client) throw new Error('ForwardedIpLimitGuard must run after ClientAuthGuard');
    const ip = endUserIp(request, request.client);
    if (ip === request.ip) return true;
    const refusal = await request.ipAdmission?.refusal;
    if (refusal) throw refusal;
    await this.counter.refund(context);
    await this.counter.charge(context, ip, effectiveLimits(this.config.rateLimit.defaults, request.client.rateLimits).startPerIp);
    return true;
  }
}

/** The start's per-IP admission, made by StartIpLimitGuard (and moved by ForwardedIpLimitGuard). */
export const StartIpAdmission = createParamDecorator((_data: unknown, context: ExecutionContext): IpAdmission => {
  const admission = context.switchToHttp().getRequest<LimitedRequest>().ipAdmission;
  if (!admission) throw new Error('StartIpAdmission used on a route without StartIpLimitGuard');
  return admission;
});

/** The end user's IP: as the start guards resolved it, else per endUserIp for the authenticated client. */
export const EndUserIp = createParamDecorator((_data: unknown, context: ExecutionContext): string => {
  const request = context.switchToHttp().getRequest<LimitedRequest>();
  return request.endUserIp ?? (request.client ? endUserIp(request, request.client) : request.ip);
});
