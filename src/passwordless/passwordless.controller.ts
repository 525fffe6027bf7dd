import { Body, Controller, HttpCode, Post, Req, UseGuards, UsePipes } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AuthenticateClient, CurrentClient } from '../clients/client-auth.guard';
import type { ClientEntity } from '../clients/client.entity';
import { auth0ValidationPipe } from '../common/auth0-validation';
import { StartThrottlerGuard } from '../rate-limit/start-throttler.guard';
import { PasswordlessService } from './passwordless.service';
import type { StartResponse } from './passwordless.responses';
import { requestLanguageFrom } from './request-language';
import { START_FIELD_PRIORITY, StartPasswordlessDto } from './start-passwordless.dto';

@Controller('passwordless')
export class PasswordlessController {
  constructor(private readonly passwordless: PasswordlessService) {}

  @Post('start')
  @HttpCode(200)
  @UseGuards(StartThrottlerGuard)
  @AuthenticateClient('passwordless')
  @UsePipes(auth0ValidationPipe(START_FIELD_PRIORITY))
  start(@CurrentClient() client: ClientEntity, @Body() body: StartPasswordlessDto, @Req() req: FastifyRequest): Promise<StartResponse> {
    return this.passwordless.start(client, body, { ip: req.ip, requestLanguage: requestLanguageFrom(req.headers) });
  }
}
