import { Body, Controller, Get, HttpCode, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
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
import { StartCallerGuard } from './start-caller.guard';
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
  // Client authentication and the per-IP limit, which counts failed authentications too.
  @UseGuards(StartCallerGuard)
  // On the body alone: a method-wide pipe would also run, to no effect, for each of the other parameters.
  start(
    @CurrentClient() client: ClientEntity,
    @Body(auth0ValidationPipe(START_FIELD_PRIORITY)) body: StartPasswordlessDto,
    @Req() req: FastifyRequest,
    @EndUserIp() ip: string,
  ): Promise<StartResponse> {
    return this.passwordless.start(client, body, { ip, requestLanguage: requestLanguageFrom(req.headers) });
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
