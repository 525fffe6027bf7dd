import { Body, Controller, Get, Post, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendBrowserResponse } from '../passwordless/browser-response';
import { LogoutService } from './logout.service';

/** Navigations, not API calls: answers are redirects or HTML pages. */
@Controller()
export class LogoutController {
  constructor(private readonly logout: LogoutService) {}

  @Get('v2/logout')
  async v2Logout(@Query() query: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    sendBrowserResponse(reply, await this.logout.v2Logout(query, req.headers.cookie));
  }

  @Get('oidc/logout')
  async oidcLogoutGet(@Query() query: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    sendBrowserResponse(reply, await this.logout.oidcLogout(query, req.headers.cookie));
  }

  /** RP-Initiated Logout §2: the same parameters, form-encoded. */
  @Post('oidc/logout')
  async oidcLogoutPost(@Body() body: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    sendBrowserResponse(reply, await this.logout.oidcLogout(body, req.headers.cookie));
  }
}
