import { Body, Controller, Get, HttpCode, Post, Query, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuthenticateClient, CurrentClient } from '../clients/client-auth.guard';
import type { ClientEntity } from '../clients/client.entity';
import { EndUserIp, requestIp } from '../clients/end-user-ip';
import { auth0ValidationPipe } from '../common/auth0-validation';
import { sendBrowserResponse } from './browser-response';
import { LegacyVerifyService } from './legacy-verify.service';
import { PasswordlessService } from './passwordless.service';
import type { StartResponse } from './passwordless.responses';
import { requestLanguageFrom } from './request-language';
import { StartCallerGuard, type StartRequest } from './start-caller.guard';
import { StartIpChargeFilter } from './start-ip-charge.filter';
import { START_FIELD_PRIORITY, StartPasswordlessDto } from './start-passwordless.dto';
import { VerifyRedirectService } from './verify-redirect.service';

@Controller('passwordless')
export class PasswordlessController {
  constructor(
    private readonly passwordless: PasswordlessService,
    private readonly legacyVerify: LegacyVerifyService,
    private readonly verifyRedirect: VerifyRedirectService,
  ) {}

  @Post('start')
  @HttpCode(200)
  // Client authentication; the per-IP limit counts failed starts too (StartIpChargeFilter).
  @UseGuards(StartCallerGuard)
  @UseFilters(StartIpChargeFilter)
  // On the body alone: a method-wide pipe would also run, to no effect, for each of the other parameters.
  async start(
    @CurrentClient() client: ClientEntity,
    @Body(auth0ValidationPipe(START_FIELD_PRIORITY)) body: StartPasswordlessDto,
    @Req() req: StartRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @EndUserIp() ip: string,
  ): Promise<StartResponse> {
    const meta = { ip, requestLanguage: requestLanguageFrom(req.headers) };
    const response = await this.passwordless.start(client, body, meta, req.startIpCharge);
    void reply.headers(req.startIpCharge.headers ?? {});
    return response;
  }

  @Post('verify')
  @HttpCode(200)
  @AuthenticateClient('oauth')
  verify(
    @CurrentClient() client: ClientEntity,
    @Body() body: unknown,
    @EndUserIp() ip: string,
  ): Promise<Record<string, never>> {
    return this.legacyVerify.verify(client, body, ip);
  }

  /** Consumes nothing: see VerifyRedirectService. */
  @Get('verify_redirect')
  async verifyRedirectPage(@Query() query: unknown, @Res() reply: FastifyReply): Promise<void> {
    sendBrowserResponse(reply, await this.verifyRedirect.page(query));
  }

  @Post('verify_redirect')
  async verifyRedirectComplete(
    @Body() body: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    sendBrowserResponse(reply, await this.verifyRedirect.complete(body, requestIp(req)));
  }
}
