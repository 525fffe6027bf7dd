import { CanActivate, createParamDecorator, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ClientEntity } from '../clients/client.entity';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { endUserIp, ipLimitKey } from './client-ip';
import { effectiveLimits } from './client-limits';
import { rateLimitHeaders, tooManyRequests } from './rate-limit.response';
import { SlidingWindowStore } from './sliding-window.store';

type LimitedRequest = FastifyRequest & { client?: ClientEntity; endUserIp?: string };

/**
 * Auth0's per-IP limit on POST /passwordless/start (default 50 per hour), shared by every replica through Redis.
 * It runs after ClientAuthGuard because the IP to count may come from `auth0-forwarded-for`, which only an
 * authenticated confidential client may set. Sets X-RateLimit-* on every answer it lets through.
 */
@Injectable()
export class StartIpLimitGuard implements CanActivate {
  constructor(
    private readonly store: SlidingWindowStore,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<LimitedRequest>();
    if (!request.client) throw new Error('StartIpLimitGuard must run after ClientAuthGuard');
    const ip = endUserIp(request, request.client);
    request.endUserIp = ip;
    const limit = effectiveLimits(this.config.rateLimit.defaults, request.client.rateLimits).startPerIp;
    const now = this.clock.now().getTime();
    const decision = await this.store.consume([{ name: 'start-ip', key: `start-ip:${ipLimitKey(ip)}`, limit, windowMs: this.config.rateLimit.startWindowMs }], now);
    if (decision.denied) throw tooManyRequests(decision.denied, now);
    if (decision.states[0]) void context.switchToHttp().getResponse<FastifyReply>().headers(rateLimitHeaders(decision.states[0]));
    return true;
  }
}

/** The end user's IP as StartIpLimitGuard resolved it (see endUserIp). */
export const EndUserIp = createParamDecorator((_data: unknown, context: ExecutionContext): string => {
  const request = context.switchToHttp().getRequest<LimitedRequest>();
  return request.endUserIp ?? request.ip;
});
