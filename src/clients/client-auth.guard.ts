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
import { ClientAuthenticator, type ClientAuthDialect } from './client-authenticator';
import type { ClientEntity } from './client.entity';

const DIALECT_KEY = 'clientAuthDialect';

/** The authenticated client is kept on the request, as Passport keeps `request.user`. */
export type AuthenticatedRequest = FastifyRequest & { client?: ClientEntity };

@Injectable()
export class ClientAuthGuard implements CanActivate {
  constructor(
    private readonly authenticator: ClientAuthenticator,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const dialect = this.reflector.get<ClientAuthDialect>(DIALECT_KEY, context.getHandler()) ?? 'oauth';
    request.client = await this.authenticator.authenticateRequest(request, dialect);
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
