import { Injectable, Logger } from '@nestjs/common';
import { compactVerify, decodeProtectedHeader } from 'jose';
import type { ClientEntity } from '../clients/client.entity';
import { ClientsRepository } from '../clients/clients.repository';
import { AppConfig } from '../config/app-config';
import type { BrowserResponse } from '../passwordless/browser-response';
import { SsoSessions } from '../sessions/sso-sessions.service';
import { SigningKeyStore, TOKEN_SIGNING_ALG } from '../tokens/signing-key.store';
import { loggedOutPage, logoutErrorPage } from './logout-pages';

type Params = Record<string, string>;

type Cookie = string | string[] | undefined;

/**
 * GET /v2/logout (Auth0) and GET|POST /oidc/logout (OpenID Connect RP-Initiated Logout 1.0): ends the browser's SSO
 * session (hosted login) and validates where the browser goes next. Refresh tokens are not revoked by logout, as on
 * Auth0 (the application revokes them at /oauth/revoke). A refused request ends nothing.
 */
@Injectable()
export class LogoutService {
  private readonly logger = new Logger('Logout');

  constructor(
    private readonly clients: ClientsRepository,
    private readonly keys: SigningKeyStore,
    private readonly config: AppConfig,
    private readonly sessions: SsoSessions,
  ) {}

  async v2Logout(input: unknown, cookie: Cookie): Promise<BrowserResponse> {
    const params = stringParams(input);
    if (!params) return logoutErrorPage('Invalid request: every parameter must be given once.');
    const client = params.client_id !== undefined ? await this.clients.findById(params.client_id) : null;
    if (params.client_id !== undefined && !client) return logoutErrorPage('Invalid request: unknown client_id.');
    const returnTo = params.returnTo;
    if (returnTo === undefined) return this.done(client, client?.allowedLogoutUrls[0], cookie);
    // Without client_id Auth0 checks the tenant's list; this service has none, so only a client's list can allow it.
    if (!client || !client.allowedLogoutUrls.some((allowed) => sameLogoutUrl(allowed, returnTo))) {
      this.logger.warn(`Logout returnTo not allowed for client ${client?.clientId ?? '(none)'}`);
      return logoutErrorPage(
        `The "returnTo" querystring parameter "${returnTo}" is not defined as a valid URL in "Allowed Logout URLs".`,
      );
    }
    return this.done(client, returnTo, cookie);
  }

  async oidcLogout(input: unknown, cookie: Cookie): Promise<BrowserResponse> {
    const params = stringParams(input);
    if (!params) return logoutErrorPage('Invalid request: every parameter must be given once.');
    let clientId = params.client_id;
    if (params.id_token_hint !== undefined) {
      const audience = await this.hintAudience(params.id_token_hint);
      if (audience === undefined) return logoutErrorPage('Invalid request: id_token_hint is not a valid ID token.');
      if (clientId !== undefined && clientId !== audience)
        return logoutErrorPage('Invalid request: client_id does not match the audience of id_token_hint.');
      clientId = audience;
    }
    const client = clientId !== undefined ? await this.clients.findById(clientId) : null;
    if (clientId !== undefined && !client) return logoutErrorPage('Invalid request: unknown client_id.');
    const target = params.post_logout_redirect_uri;
    // RP-Initiated Logout §3: the URI must have been registered; Auth0 compares it exactly, query string included.
    if (target !== undefined && (!client || !client.allowedLogoutUrls.includes(target))) {
      this.logger.warn(`Logout post_logout_redirect_uri not allowed for client ${client?.clientId ?? '(none)'}`);
      return logoutErrorPage(
        `The "post_logout_redirect_uri" parameter "${target}" is not defined as a valid URL in "Allowed Logout URLs".`,
      );
    }
    const location = target ?? client?.allowedLogoutUrls[0];
    return this.done(
      client,
      location && params.state !== undefined ? withState(location, params.state) : location,
      cookie,
    );
  }

  private async done(
    client: ClientEntity | null,
    location: string | undefined,
    cookie: Cookie,
  ): Promise<BrowserResponse> {
    const cleared = await this.sessions.end(cookie);
    this.logger.log(`Logout (client ${client?.clientId ?? 'none'})`);
    const response: BrowserResponse = location === undefined ? loggedOutPage() : { kind: 'redirect', location };
    return cleared ? { ...response, cookies: [cleared] } : response;
  }

  /**
   * The `aud` of an ID token this service signed (RP-Initiated Logout §2: an expired one is still a valid hint, so
   * only the signature, algorithm and issuer are checked). Undefined for anything else.
   */
  private async hintAudience(token: string): Promise<string | undefined> {
    try {
      const { alg, kid } = decodeProtectedHeader(token);
      const key = alg === TOKEN_SIGNING_ALG ? this.keys.findPublicKey(kid) : undefined;
      if (!key) return undefined;
      const { payload } = await compactVerify(token, key, { algorithms: [TOKEN_SIGNING_ALG] });
      const claims = JSON.parse(new TextDecoder().decode(payload)) as { iss?: unknown; aud?: unknown };
      if (claims.iss !== this.config.issuerBaseUrl) return undefined;
      return typeof claims.aud === 'string' ? claims.aud : undefined;
    } catch {
      return undefined;
    }
  }
}

/** Query or form parameters; undefined when one is repeated or not a string (nothing is guessed). */
function stringParams(input: unknown): Params | undefined {
  if (typeof input !== 'object' || input === null) return {};
  const params: Params = {};
  for (const [key, value] of Object.entries(input)) {
    if (typeof value !== 'string') return undefined;
    params[key] = value;
  }
  return params;
}

/**
 * Auth0's /v2/logout matching: query and fragment ignored, scheme and host case-insensitive (URL parsing lower-cases
 * them), path case-sensitive.
 */
function sameLogoutUrl(allowed: string, candidate: string): boolean {
  if (!URL.canParse(allowed) || !URL.canParse(candidate)) return false;
  const a = new URL(allowed);
  const b = new URL(candidate);
  return a.protocol === b.protocol && a.host === b.host && a.pathname === b.pathname;
}

function withState(location: string, state: string): string {
  const url = new URL(location);
  url.searchParams.set('state', state);
  return url.toString();
}
