import { Injectable } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import { authorizeErrors, clientAuthErrors, linkErrors, tokenErrors } from '../common/auth0-errors';
import type { ClientEntity } from '../clients/client.entity';
import { ClientsRepository } from '../clients/clients.repository';
import { RESPONSE_TYPES } from '../oauth/authorization-results';
import { TokenIssuer } from '../tokens/token-issuer';
import type { ConnectionEntity } from '../verification/connection.entity';
import { ConnectionsRepository } from '../verification/connections.repository';

export type ResponseMode = 'query' | 'fragment' | 'form_post' | 'web_message';
const RESPONSE_MODES: readonly string[] = ['query', 'fragment', 'form_post', 'web_message'];
const PROMPTS: readonly string[] = ['none', 'login', 'consent', 'select_account'];
/** Long enough for any SDK's state, nonce or scope; a cookie must hold them all. */
const MAX_PARAM_LENGTH = 2048;
/** RFC 7636 §4.2: base64url of a SHA-256 digest. */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/** Where and how results (and errors, once it is trusted) go back to the application. */
export interface ResponseTarget {
  redirectUri: string;
  mode: ResponseMode;
  state?: string;
}

/** A checked authorization request. */
export interface AuthorizeRequest {
  client: ClientEntity;
  target: ResponseTarget;
  /** Sorted response_type words. */
  responseType: string[];
  scope?: string;
  audience?: string;
  nonce?: string;
  codeChallenge?: string;
  /** The requested connection, enabled for the client. */
  connection?: ConnectionEntity;
  /** The passwordless connections the page offers. */
  connections: ConnectionEntity[];
  loginHint?: string;
  prompt: string[];
  maxAge?: number;
  uiLocales?: string;
  loginTicket?: string;
  /** The query as received (every value a string), kept for the hosted page's later steps. */
  params: Record<string, string>;
}

export type ParsedAuthorize =
  | { kind: 'ok'; request: AuthorizeRequest }
  /** Shown to the user: the application cannot be trusted with it. */
  | { kind: 'page'; error: ApiError }
  /** Sent back to the trusted redirect_uri. */
  | { kind: 'redirect'; target: ResponseTarget; client: ClientEntity; error: ApiError };

/**
 * GET /authorize's parameters in Auth0's order: client_id and redirect_uri first (errors on the page), then the rest
 * (errors redirected with state, in the response mode asked for when it is valid).
 */
@Injectable()
export class AuthorizeRequestParser {
  constructor(
    private readonly clients: ClientsRepository,
    private readonly connections: ConnectionsRepository,
    private readonly issuer: TokenIssuer,
  ) {}

  async parse(input: unknown): Promise<ParsedAuthorize> {
    const params: Record<string, string> = {};
    for (const [key, value] of Object.entries(typeof input === 'object' && input !== null ? input : {})) {
      if (typeof value !== 'string') return page(authorizeErrors.repeatedParameter(key));
      if (value.length > MAX_PARAM_LENGTH) return page(authorizeErrors.parameterTooLong(key));
      params[key] = value;
    }
    if (!params.client_id) return page(authorizeErrors.missingParameter('client_id'));
    const client = await this.clients.findById(params.client_id);
    if (!client) return page(authorizeErrors.unknownClient(params.client_id));
    const redirectUri = params.redirect_uri;
    if (!redirectUri) return page(authorizeErrors.missingParameter('redirect_uri'));
    if (!client.callbacks.includes(redirectUri) || !isWebUrl(redirectUri))
      return page(authorizeErrors.callbackMismatch(redirectUri));
    if (params.response_mode === 'web_message' && !client.webOrigins.includes(new URL(redirectUri).origin))
      return page(authorizeErrors.noRegisteredOrigin(redirectUri));

    const responseType = (params.response_type ?? '').split(' ').filter(Boolean).sort();
    const tokens = responseType.includes('token') || responseType.includes('id_token');
    const validMode = params.response_mode !== undefined && RESPONSE_MODES.includes(params.response_mode);
    const target: ResponseTarget = {
      redirectUri,
      mode: validMode ? (params.response_mode as ResponseMode) : tokens ? 'fragment' : 'query',
      state: params.state,
    };
    try {
      return { kind: 'ok', request: await this.check(client, params, target, responseType) };
    } catch (err) {
      if (err instanceof ApiError && err.status < 500) return { kind: 'redirect', target, client, error: err };
      throw err;
    }
  }

  private async check(
    client: ClientEntity,
    params: Record<string, string>,
    target: ResponseTarget,
    responseType: string[],
  ): Promise<AuthorizeRequest> {
    if (responseType.length === 0) throw authorizeErrors.missingParameter('response_type');
    const joined = responseType.join(' ');
    if (!RESPONSE_TYPES.includes(joined)) throw linkErrors.unsupportedResponseType(params.response_type);
    if (params.response_mode !== undefined && !RESPONSE_MODES.includes(params.response_mode))
      throw authorizeErrors.unsupportedResponseMode(params.response_mode);
    if (target.mode === 'query' && joined !== 'code') throw authorizeErrors.queryModeWithTokens();
    if (responseType.includes('code')) requireGrant(client, 'authorization_code');
    if (joined !== 'code') requireGrant(client, 'implicit');
    // OIDC Core §3.2.2.1 / §3.3.2.11: nonce is required when an id_token comes from the authorization endpoint.
    if (responseType.includes('id_token') && !params.nonce) throw linkErrors.nonceRequired();
    const challenge = params.code_challenge;
    if (challenge !== undefined && (params.code_challenge_method !== 'S256' || !S256_CHALLENGE.test(challenge)))
      throw linkErrors.codeChallengeNotS256();
    // RFC 9700 §2.1.1: a public client's code must be bound to a PKCE challenge.
    if (responseType.includes('code') && client.authMethod === 'none' && challenge === undefined)
      throw linkErrors.codeChallengeRequired();
    const prompt = (params.prompt ?? '').split(' ').filter(Boolean);
    const badPrompt = prompt.find((p) => !PROMPTS.includes(p));
    if (badPrompt !== undefined || (prompt.includes('none') && prompt.length > 1))
      throw authorizeErrors.invalidPrompt(params.prompt ?? '');
    if (params.max_age !== undefined && !/^\d{1,9}$/.test(params.max_age)) throw authorizeErrors.invalidMaxAge();
    const connections = await this.passwordlessConnections(client);
    let connection: ConnectionEntity | undefined;
    if (params.connection !== undefined) {
      connection = (await this.connections.findByName(params.connection)) ?? undefined;
      if (!connection) throw tokenErrors.connectionNotFound();
      if (!client.connections.includes(connection.name)) throw tokenErrors.connectionDisabled();
    }
    this.issuer.checkAudience(params.audience);
    return {
      client,
      target,
      responseType,
      scope: params.scope,
      audience: params.audience,
      nonce: params.nonce,
      codeChallenge: challenge,
      connection,
      connections: connection ? [connection] : connections,
      loginHint: params.login_hint,
      prompt,
      maxAge: params.max_age === undefined ? undefined : Number(params.max_age),
      uiLocales: params.ui_locales,
      loginTicket: params.login_ticket,
      params,
    };
  }

  private async passwordlessConnections(client: ClientEntity): Promise<ConnectionEntity[]> {
    const found = await Promise.all(client.connections.map((name) => this.connections.findByName(name)));
    return found.filter((c): c is ConnectionEntity => c !== null);
  }
}

const page = (error: ApiError): ParsedAuthorize => ({ kind: 'page', error });

function requireGrant(client: ClientEntity, grant: string): void {
  if (!client.grantTypes.includes(grant)) throw clientAuthErrors.grantNotAllowed(grant);
}

/** Callbacks are registered data, but a redirect must still be an absolute http(s) URL (never javascript: or data:). */
function isWebUrl(value: string): boolean {
  return URL.canParse(value) && ['http:', 'https:'].includes(new URL(value).protocol);
}
