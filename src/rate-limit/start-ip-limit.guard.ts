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
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ClientEntity } from '../clients/client.entity';
import type { ApiError } from '../common/api-error';
import { Clock } from '../common/clock';
import { onErrorReply } from '../common/error-reply-hooks';
import { AppConfig } from '../config/app-config';
import { endUserIp, ipLimitKey } from './client-ip';
import { effectiveLimits } from './client-limits';
import { rateLimitHeaders, tooManyRequests } from './rate-limit.response';
import { SlidingWindowStore, type LimitDecision, type LimitRule } from './sliding-window.store';

type LimitedRequest = FastifyRequest & { client?: ClientEntity; startIpCharge?: StartIpCharge };

/**
 * The per-IP charge of one start (Auth0's per-IP limit, default 50 per hour), made exactly once. Decided before client
 * authentication, it is made in the same Redis call as the start's other limits (StartLimiter), which saves a round
 * trip per start. A start that fails before reaching them is charged alone before its error is sent, and answered
 * 429 instead if that charge is refused: failed authentications count, and an IP over its limit gets 429 whatever else
 * is wrong with its request, exactly as if the charge had been made first.
 */
export class StartIpCharge {
  private settled = false;

  constructor(
    private ip: string,
    private limit: number,
    private readonly windowMs: number,
    private readonly reply: FastifyReply,
  ) {}

  get endUserIp(): string {
    return this.ip;
  }

  /** A trusted backend's start counts against its user's IP under the client's limit (see ForwardedIpLimitGuard). */
  moveTo(ip: string, limit: number): void {
    this.ip = ip;
    this.limit = limit;
  }

  /** The rule to consume, as the first stage of the start's limits; `settle` must be given the decision. */
  rule(): LimitRule {
    return { name: 'start-ip', key: `start-ip:${ipLimitKey(this.ip)}`, limit: this.limit, windowMs: this.windowMs };
  }

  /** Records the charge; its state (if Redis answered) becomes the answer's X-RateLimit-* headers. */
  settle(decision: LimitDecision): void {
    this.settled = true;
    const state = decision.states[0];
    if (state?.rule.name === 'start-ip') void this.reply.headers(rateLimitHeaders(state));
  }

  /** For a start that failed before its limits were consumed: charges the IP alone; the 429 to answer instead, if refused. */
  async settleAlone(store: SlidingWindowStore, nowMs: number): Promise<ApiError | undefined> {
    if (this.settled) return undefined;
    const decision = await store.consume([this.rule()], nowMs);
    this.settle(decision);
    return decision.denied ? tooManyRequests(decision.denied, nowMs) : undefined;
  }
}

/** The start's pending per-IP charge, if StartIpLimitGuard ran for this request. */
export function startIpChargeOf(request: FastifyRequest): StartIpCharge | undefined {
  return (request as LimitedRequest).startIpCharge;
}

/**
 * Runs before client authentication and counts every start against the connecting IP (`req.ip`, which honours
 * X-Forwarded-For when TRUST_PROXY is on), so requests with bad credentials count and are refused too (see
 * StartIpCharge for when the charge is made). A ThrottlerGuard, so the limit comes from ThrottlerModule options and
 * @Throttle/@SkipThrottle work as usual; the counting itself goes to the sliding window, which also gives Auth0's
 * epoch X-RateLimit-Reset.
 */
@Injectable()
export class StartIpLimitGuard extends ThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    private readonly store: SlidingWindowStore,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {
    super(options, storage, reflector);
  }

  protected override handleRequest({ context, limit }: ThrottlerRequest): Promise<boolean> {
    const request = context.switchToHttp().getRequest<LimitedRequest>();
    const charge = new StartIpCharge(request.ip, limit, this.config.rateLimit.startWindowMs, context.switchToHttp().getResponse<FastifyReply>());
    request.startIpCharge = charge;
    onErrorReply(request, () => charge.settleAlone(this.store, this.clock.now().getTime()));
    return Promise.resolve(true);
  }
}

/**
 * Runs after client authentication. A backend calling for its users sends each user's IP in `auth0-forwarded-for`;
 * when the client may do so (see endUserIp), the start counts against the user's IP instead of the backend's, limited
 * by the client's `startPerIp`. Without this every user of the backend would share one budget.
 */
@Injectable()
export class ForwardedIpLimitGuard implements CanActivate {
  constructor(private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<LimitedRequest>();
    if (!request.client || !request.startIpCharge) throw new Error('ForwardedIpLimitGuard must run after StartIpLimitGuard and ClientAuthGuard');
    const ip = endUserIp(request, request.client);
    if (ip !== request.ip) request.startIpCharge.moveTo(ip, effectiveLimits(this.config.rateLimit.defaults, request.client.rateLimits).startPerIp);
    return true;
  }
}

/** The start's per-IP charge, for the service to consume with the start's other limits (needs StartIpLimitGuard). */
export const PendingStartIpCharge = createParamDecorator((_data: unknown, context: ExecutionContext): StartIpCharge => {
  const charge = context.switchToHttp().getRequest<LimitedRequest>().startIpCharge;
  if (!charge) throw new Error('PendingStartIpCharge used on a route without StartIpLimitGuard');
  return charge;
});

/** The end user's IP: as the start guards resolved it, else per endUserIp for the authenticated client. */
export const EndUserIp = createParamDecorator((_data: unknown, context: ExecutionContext): string => {
  const request = context.switchToHttp().getRequest<LimitedRequest>();
  return request.startIpCharge?.endUserIp ?? (request.client ? endUserIp(request, request.client) : request.ip);
});
