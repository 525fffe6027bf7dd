import {
  applyDecorators,
  CanActivate,
  createParamDecorator,
  ExecutionContext,
  Injectable,
  SetMetadata,
  UseGuards,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import type { ReplayMark } from './assertion-replay.store';
import { ClientAuthenticator, type ClientAuthDialect } from './client-authenticator';
import type { ClientEntity } from './client.entity';

const DIALECT_KEY = 'clientAuthDialect';

/** `deferReplayMark` is set by a guard that records the assertion's jti itself (see PendingIpCharge). */
type AuthenticatedRequest = FastifyRequest & { client?: ClientEntity; deferReplayMark?: (mark: ReplayMark) => void };

@Injectable()
export class ClientAuthGuard implements CanActivate {
  constructor(
    private readonly authenticator: ClientAuthenticator,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const dialect = this.reflector.get<ClientAuthDialect>(DIALECT_KEY, context.getHandler()) ?? 'oauth';
    request.client = await this.authenticator.authenticate({
      body: request.body,
      authorization: request.headers.authorization,
      // The route as registered, never the request target: an absolute-form target would otherwise choose the `aud`.
      endpointPath: request.routeOptions.url ?? '/',
      dialect,
      deferReplayMark: request.deferReplayMark,
    });
    return true;
  }
}

/** Authenticates the calling application (client_secret_post/basic, private_key_jwt, or a public client_id). */
export const AuthenticateClient = (dialect: ClientAuthDialect) =>
  applyDecorators(SetMetadata(DIALECT_KEY, dialect), UseGuards(ClientAuthGuard));

/** The client the guard authenticated. */
export const CurrentClient = createParamDecorator((_data: unknown, context: ExecutionContext): ClientEntity => {
  const client = context.switchToHttp().getRequest<AuthenticatedRequest>().client;
  if (!client) throw new Error('CurrentClient used on a route without @AuthenticateClient');
  return client;
});
