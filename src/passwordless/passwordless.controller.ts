import { Body, Controller, HttpCode, Post, Req, UseGuards, UsePipes } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AuthenticateClient, CurrentClient } from '../clients/client-auth.guard';
import type { ClientEntity } from '../clients/client.entity';
import { auth0ValidationPipe } from '../common/auth0-validation';
import { EndUserIp, StartIpLimitGuard } from '../rate-limit/start-ip-limit.guard';
import { PasswordlessService } from './passwordless.service';
import type { StartResponse } from './passwordless.responses';
import { requestLanguageFrom } from './request-language';
import { START_FIELD_PRIORITY, StartPasswordlessDto } from './start-passwordless.dto';

@Controller('passwordless')
export class PasswordlessController {
  constructor(private readonly passwordless: PasswordlessService) {}

  @Post('start')
  @HttpCode(200)
  // Guards from the decorator nearest the method run first: client authentication, then the per-IP limit.
  @UseGuards(StartIpLimitGuard)
  @AuthenticateClient('passwordless')
  @UsePipes(auth0ValidationPipe(START_FIELD_PRIORITY))
  start(@CurrentClient() client: ClientEntity, @Body() body: StartPasswordlessDto, @Req() req: FastifyRequest, @EndUserIp() ip: string): Promise<StartResponse> {
    return this.passwordless.start(client, body, { ip, requestLanguage: requestLanguageFrom(req.headers) });
  }
}
