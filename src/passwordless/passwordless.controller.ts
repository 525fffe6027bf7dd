import { Body, Controller, Get, HttpCode, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuthenticateClient, CurrentClient } from '../clients/client-auth.guard';
import type { ClientEntity } from '../clients/client.entity';
import { auth0ValidationPipe } from '../common/auth0-validation';
import {
  EndUserIp,
  ForwardedIpLimitGuard,
  StartIpCharge,
  StartIpLimitGuard,
  type PendingIpCharge,
} from '../rate-limit/start-ip-limit.guard';
import { sendBrowserResponse } from './browser-response';
import { LegacyVerifyService } from './legacy-verify.service';
import { PasswordlessService } from './passwordless.service';
import type { StartResponse } from './passwordless.responses';
import { requestLanguageFrom } from './request-language';
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
  // Decorators apply bottom-up: the per-IP limit is listed last so that it runs first and failed authentications count;
  // after authentication a trusted backend's start moves to its user's IP (auth0-forwarded-for).
  @UseGuards(ForwardedIpLimitGuard)
  @AuthenticateClient('passwordless')
  @UseGuards(StartIpLimitGuard)
  // On the body alone: a method-wide pipe would also run, to no effect, for each of the other parameters.
  start(
    @CurrentClient() client: ClientEntity,
    @Body(auth0ValidationPipe(START_FIELD_PRIORITY)) body: StartPasswordlessDto,
    @Req() req: FastifyRequest,
    @StartIpCharge() ipCharge: PendingIpCharge,
  ): Promise<StartResponse> {
    return this.passwordless.start(client, body, { ipCharge, requestLanguage: requestLanguageFrom(req.headers) });
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
    sendBrowserResponse(reply, await this.verifyRedirect.complete(body, req.ip));
  }
}
