import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { AuthenticatedRequest } from '../clients/client-auth.guard';
import { ClientAuthenticator } from '../clients/client-authenticator';
import type { ClientEntity } from '../clients/client.entity';
import { effectiveLimits } from '../clients/client-rate-limits';
import { endUserIp, requestIp } from '../clients/end-user-ip';
import { AppConfig } from '../config/app-config';
import { StartIpLimiter, type StartIpCharge } from '../rate-limit/start-ip.limiter';

/**
 * Who calls POST /passwordless/start: the authenticated client, and the IP the start is charged to. Auth0 counts every
 * start against its IP, failed authentications included, and answers 429 to an IP over its limit whatever else the
 * request did (else an IP over its limit could still tell a right secret from a wrong one). A trusted backend's start
 * counts against its user's IP (auth0-forwarded-for), which is only known once the client is authenticated: so the
 * IP is charged after authentication, or, when authentication fails, before that error is answered.
 */
@Injectable()
export class StartCallerGuard implements CanActivate {
  constructor(
    private readonly authenticator: ClientAuthenticator,
    private readonly ipLimiter: StartIpLimiter,
    private readonly config: AppConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const defaults = this.config.rateLimit.defaults;
    const connecting = { ip: requestIp(request), limit: defaults.startPerIp };
    this.ipLimiter.refuseIfRemembered(connecting.ip, connecting.limit);
    let client: ClientEntity;
    try {
      client = await this.authenticator.authenticateRequest(request, 'passwordless');
    } catch (err) {
      void reply.headers(await this.ipLimiter.charge(connecting));
      throw err;
    }
    const ip = endUserIp(request, client);
    const charge: StartIpCharge =
      ip === connecting.ip
        ? connecting
        : { ip, limit: effectiveLimits(defaults, client.rateLimits).startPerIp, movedFrom: connecting };
    void reply.headers(await this.ipLimiter.charge(charge));
    request.client = client;
    return true;
  }
}
