import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { AuthenticatedRequest } from '../clients/client-auth.guard';
import { ClientAuthenticator } from '../clients/client-authenticator';
import { effectiveLimits } from '../clients/client-rate-limits';
import { endUserIp, requestIp } from '../clients/end-user-ip';
import { AppConfig } from '../config/app-config';
import { StartIpCharge, StartIpLimiter } from '../rate-limit/start-ip.limiter';

/** A start's request once its caller is known: the client, and the per-IP charge the start still has to make. */
export interface StartRequest extends AuthenticatedRequest {
  startIpCharge: StartIpCharge;
}

/**
 * Who calls POST /passwordless/start: the authenticated client, and the IP the start is charged to. Auth0 counts every
 * start against its IP, failed authentications included, and answers 429 to an IP over its limit whatever else the
 * request did (else an IP over its limit could still tell a right secret from a wrong one). A trusted backend's start
 * counts against its user's IP (auth0-forwarded-for), which is only known once the client is authenticated. The
 * charge is made with the start's other limits, in one Redis call (StartLimiter.admit), or, by StartIpChargeFilter,
 * before the error of a start that fails earlier (this guard's included) is answered.
 */
@Injectable()
export class StartCallerGuard implements CanActivate {
  constructor(
    private readonly authenticator: ClientAuthenticator,
    private readonly ipLimiter: StartIpLimiter,
    private readonly config: AppConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<StartRequest>();
    const defaults = this.config.rateLimit.defaults;
    const connecting = { ip: requestIp(request), limit: defaults.startPerIp };
    this.ipLimiter.refuseIfRemembered(connecting.ip, connecting.limit);
    request.startIpCharge = new StartIpCharge(connecting);
    const client = await this.authenticator.authenticateRequest(request, 'passwordless');
    const ip = endUserIp(request, client);
    if (ip !== connecting.ip) {
      const limit = effectiveLimits(defaults, client.rateLimits).startPerIp;
      request.startIpCharge = new StartIpCharge({ ip, limit, movedFrom: connecting });
    }
    request.client = client;
    return true;
  }
}
