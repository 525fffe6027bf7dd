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
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { endUserIp, ipLimitKey } from './client-ip';
import { effectiveLimits } from './client-limits';
import { rateLimitHeaders, tooManyRequests } from './rate-limit.response';
import { SlidingWindowStore, type LimitState } from './sliding-window.store';

type LimitedRequest = FastifyRequest & { client?: ClientEntity; endUserIp?: string; ipCharge?: LimitState };

/** Charges one start to `ip` (Auth0's per-IP limit, default 50 per hour) and sets X-RateLimit-* on the answer. */
@Injectable()
export class StartIpCounter {
  constructor(
    private readonly store: SlidingWindowStore,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  async charge(context: ExecutionContext, ip: string, limit: number): Promise<void> {
    const request = context.switchToHttp().getRequest<LimitedRequest>();
    const now = this.clock.now().getTime();
    const rule = { name: 'start-ip', key: `start-ip:${ipLimitKey(ip)}`, limit, windowMs: this.config.rateLimit.startWindowMs };
    const decision = await this.store.consume([rule], now);
    if (decision.denied) throw tooManyRequests(decision.denied, now);
    request.endUserIp = ip;
    request.ipCharge = decision.states[0];
    if (decision.states[0]) void context.switchToHttp().getResponse<FastifyReply>().headers(rateLimitHeaders(decision.states[0]));
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

  protected override async handleRequest({ context, limit }: ThrottlerRequest): Promise<boolean> {
    const request = context.switchToHttp().getRequest<LimitedRequest>();
    await this.counter.charge(context, request.ip, limit);
    return true;
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
    await this.counter.refund(context);
    await this.counter.charge(context, ip, effectiveLimits(this.config.rateLimit.defaults, request.client.rateLimits).startPerIp);
    return true;
  }
}

/** The end user's IP: as the start guards resolved it, else per endUserIp for the authenticated client. */
export const EndUserIp = createParamDecorator((_data: unknown, context: ExecutionContext): string => {
  const request = context.switchToHttp().getRequest<LimitedRequest>();
  return request.endUserIp ?? (request.client ? endUserIp(request, request.client) : request.ip);
});
