import { ArgumentsHost, Catch, Injectable } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { HttpErrorFilter } from '../common/http-error.filter';
import { StartIpLimiter } from '../rate-limit/start-ip.limiter';
import type { StartRequest } from './start-caller.guard';

/**
 * The errors of POST /passwordless/start. A start that failed before its limits were checked (authentication,
 * validation, an unknown connection, ...) makes its per-IP charge before the error is answered, and an IP over its
 * limit gets that 429 instead of the error. The answer carries the charged IP's X-RateLimit-* headers. Only failed
 * starts pass here: an admitted start's charge was made with its other limits (StartLimiter.admit).
 */
@Catch()
@Injectable()
export class StartIpChargeFilter extends HttpErrorFilter {
  constructor(private readonly ipLimiter: StartIpLimiter) {
    super();
  }

  override catch(exception: unknown, host: ArgumentsHost): void {
    void this.chargeThenAnswer(exception, host);
  }

  private async chargeThenAnswer(exception: unknown, host: ArgumentsHost): Promise<void> {
    const charge = host.switchToHttp().getRequest<Partial<StartRequest>>().startIpCharge;
    let answer = exception;
    if (charge) {
      try {
        await this.ipLimiter.chargeOnce(charge);
      } catch (refusal) {
        answer = refusal;
      }
      if (charge.headers) void host.switchToHttp().getResponse<FastifyReply>().headers(charge.headers);
    }
    super.catch(answer, host);
  }
}
