import { Body, Controller, Get, HttpCode, Options, Post, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { requestIp } from '../clients/end-user-ip';
import { sendBrowserResponse } from '../passwordless/browser-response';
import type { BrowserRequest } from './authorize.service';
import { AuthorizeService } from './authorize.service';
import { CrossOriginLoginService, type CrossOriginTicket } from './cross-origin-login.service';
import { HostedLoginService } from './hosted-login.service';

const browserOf = (req: FastifyRequest): BrowserRequest => ({
  cookie: req.headers.cookie,
  acceptLanguage: req.headers['accept-language'],
});

const formOf = (body: unknown): Record<string, unknown> =>
  typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};

/** Navigations (pages and redirects), except /co/authenticate, which auth0.js calls with XHR. */
@Controller()
export class AuthorizeController {
  constructor(
    private readonly authorizeService: AuthorizeService,
    private readonly hosted: HostedLoginService,
    private readonly crossOrigin: CrossOriginLoginService,
  ) {}

  @Get('authorize')
  async authorize(@Query() query: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    sendBrowserResponse(reply, await this.authorizeService.authorize(query, browserOf(req)));
  }

  @Post('authorize/identifier')
  async identifier(@Body() body: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    sendBrowserResponse(reply, await this.hosted.submitIdentifier(formOf(body), browserOf(req), requestIp(req)));
  }

  @Get('authorize/challenge')
  async challengePage(@Query() query: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    sendBrowserResponse(reply, await this.hosted.challenge(formOf(query), browserOf(req)));
  }

  @Post('authorize/challenge')
  async challenge(@Body() body: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    sendBrowserResponse(reply, await this.hosted.submitCode(formOf(body), browserOf(req), requestIp(req)));
  }

  @Post('authorize/resend')
  async resend(@Body() body: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    sendBrowserResponse(reply, await this.hosted.resend(formOf(body), browserOf(req), requestIp(req)));
  }

  /**
   * A route of its own for the preflight, so that only /co/authenticate's allows credentials (CorsPolicy.onRoute);
   * @fastify/cors answers it before this handler runs.
   */
  @Options('co/authenticate')
  @HttpCode(204)
  coAuthenticatePreflight(): void {}

  @Post('co/authenticate')
  @HttpCode(200)
  coAuthenticate(@Body() body: unknown, @Req() req: FastifyRequest): Promise<CrossOriginTicket> {
    return this.crossOrigin.authenticate(body, req.headers.origin, requestIp(req));
  }
}
