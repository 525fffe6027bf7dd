import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { clientAuthErrors, type ErrorDialect } from '../common/auth0-errors';
import { ClientAssertionVerifier, JWT_BEARER_ASSERTION_TYPE } from './client-assertion.verifier';
import type { ClientEntity } from './client.entity';
import { clientSecretMatches } from './client-secret';
import { ClientsRepository } from './clients.repository';

/** How an endpoint words the errors it shares (Auth0's start endpoint uses `bad.*`, OAuth uses RFC 6749). */
export type ClientAuthDialect = ErrorDialect;

export interface ClientAuthInput {
  body: unknown;
  authorization?: string;
  endpointPath: string;
  dialect: ClientAuthDialect;
}

const CREDENTIAL_FIELDS = ['client_id', 'client_secret', 'client_assertion', 'client_assertion_type'] as const;
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;
type Credentials = Partial<Record<(typeof CREDENTIAL_FIELDS)[number], string>>;

/**
 * Client authentication in node-oidc-provider's order (lib/shared/client_auth.js): one mechanism only, client_id
 * consistent across body and header, the registered method enforced (both secret transports count as the secret
 * method, see docs/auth0-compatibility.md), secrets compared in constant time.
 */
@Injectable()
export class ClientAuthenticator {
  constructor(
    private readonly clients: ClientsRepository,
    private readonly assertions: ClientAssertionVerifier,
  ) {}

  /** The calling application of `request`, for an endpoint that words its errors in `dialect`. */
  authenticateRequest(request: FastifyRequest, dialect: ClientAuthDialect): Promise<ClientEntity> {
    return this.authenticate({
      body: request.body,
      authorization: request.headers.authorization,
      // The route as registered, never the request target: an absolute-form target would otherwise choose the `aud`.
      endpointPath: request.routeOptions.url ?? '/',
      dialect,
    });
  }

  async authenticate(input: ClientAuthInput): Promise<ClientEntity> {
    const credentials = this.readCredentials(input);
    // Only Basic carries client credentials; other schemes (Auth0's generated samples add `Bearer`) are ignored.
    const basic =
      input.authorization !== undefined && /^basic /i.test(input.authorization.trim())
        ? parseBasic(input.authorization)
        : undefined;
    const mechanisms = [basic, credentials.client_secret, credentials.client_assertion].filter((m) => m !== undefined);
    if (mechanisms.length > 1) throw clientAuthErrors.severalMechanisms();
    if (basic && credentials.client_id !== undefined && credentials.client_id !== basic.clientId)
      throw clientAuthErrors.clientIdMismatch();
    if (
      (credentials.client_assertion !== undefined || credentials.client_assertion_type !== undefined) &&
      credentials.client_assertion_type !== JWT_BEARER_ASSERTION_TYPE
    ) {
      throw clientAuthErrors.assertionType(JWT_BEARER_ASSERTION_TYPE);
    }

    const clientId = credentials.client_id ?? basic?.clientId;
    if (clientId === undefined) throw clientAuthErrors.missingClientId(input.dialect);
    const client = await this.clients.findById(clientId);
    if (!client) throw clientAuthErrors.invalidClient('unknown client_id');

    const secret = credentials.client_secret ?? basic?.secret;
    if (client.authMethod === 'none') {
      if (mechanisms.length > 0) throw clientAuthErrors.invalidClient('public client sent credentials');
      return client;
    }
    if (mechanisms.length === 0) throw clientAuthErrors.authenticationRequired();
    if (client.authMethod === 'private_key_jwt') {
      if (credentials.client_assertion === undefined)
        throw clientAuthErrors.invalidClient('client registered for private_key_jwt sent a secret');
      await this.assertions.verify(client, credentials.client_assertion, input.endpointPath);
      return client;
    }
    // client_secret_post and client_secret_basic: Auth0's SDKs always post the secret, so both transports are accepted.
    if (secret === undefined) throw clientAuthErrors.invalidClient('client registered for a secret sent an assertion');
    if (!clientSecretMatches(secret, client.secretHash)) throw clientAuthErrors.invalidClient('client secret mismatch');
    return client;
  }

  private readCredentials({ body, dialect }: ClientAuthInput): Credentials {
    if (body === undefined || body === null) return {};
    if (typeof body !== 'object' || Array.isArray(body)) throw clientAuthErrors.bodyNotAnObject(body, dialect);
    const credentials: Credentials = {};
    for (const field of CREDENTIAL_FIELDS) {
      const value = (body as Record<string, unknown>)[field];
      if (value === undefined) continue;
      if (typeof value !== 'string') throw clientAuthErrors.credentialType(field, value, dialect);
      credentials[field] = value;
    }
    return credentials;
  }
}

/** RFC 6749 §2.3.1 + Appendix B: id and secret are form-urlencoded before base64; split on the first colon. */
function parseBasic(header: string): { clientId: string; secret: string } {
  const match = /^Basic ([A-Za-z0-9+/]+={0,2})$/i.exec(header.trim());
  if (!match) throw clientAuthErrors.invalidClient('malformed Authorization header');
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  if (CONTROL_CHARACTERS.test(decoded)) throw clientAuthErrors.invalidClient('control characters in Basic credentials');
  const colon = decoded.indexOf(':');
  if (colon < 1) throw clientAuthErrors.invalidClient('malformed Basic credentials');
  try {
    const formDecode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    return { clientId: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
  } catch {
    throw clientAuthErrors.invalidClient('malformed Basic credentials encoding');
  }
}
