import { Body, Controller, Get, Post, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { sendBrowserResponse } from '../passwordless/browser-response';
import { LogoutService } from './logout.service';

/** Navigations, not API calls: answers are redirects or HTML pages. */
@Controller()
export class LogoutController {
  constructor(private readonly logout: LogoutService) {}

  @Get('v2/logout')
  async v2Logout(@Query() query: unknown, @Res() reply: FastifyReply): Promise<void> {
    sendBrowserResponse(reply, await this.logout.v2Logout(query));
  }

  @Get('oidc/logout')
  async oidcLogoutGet(@Query() query: unknown, @Res() reply: FastifyReply): Promise<void> {
    sendBrowserResponse(reply, await this.logout.oidcLogout(query));
  }

  /** RP-Initiated Logout §2: the same parameters, form-encoded. */
  @Post('oidc/logout')
  async oidcLogoutPost(@Body() body: unknown, @Res() reply: FastifyReply): Promise<void> {
    sendBrowserResponse(reply, await this.logout.oidcLogout(body));
  }
}
