import { Injectable, Logger } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import { authorizeErrors } from '../common/auth0-errors';
import { Clock } from '../common/clock';
import { RandomSource } from '../common/random.source';
import type { ClientEntity } from '../clients/client.entity';
import { AuthorizationResults } from '../oauth/authorization-results';
import type { BrowserResponse } from '../passwordless/browser-response';
import { SsoSessions, type SsoSession } from '../sessions/sso-sessions.service';
import { UsersRepository, type User } from '../users/users.repository';
import { SecretHasher } from '../verification/secret-hasher';
import { AuthorizeRequestParser, type AuthorizeRequest, type ResponseTarget } from './authorize-request';
import { AuthorizeTransactions } from './authorize-transaction';
import { LoginTicketsRepository } from './login-tickets.repository';
import { authorizeErrorPage, formPostPage, identifierPage, webMessagePage } from './login-pages';
import { pageLocale, textsFor } from './login-texts';
import { annotateRequest } from '../observability/logging';

/** Link requests reuse /passwordless/verify_redirect, which answers in the query or the fragment only. */
const LINK_RESPONSE_TYPES = ['code', 'token', 'id_token', 'id_token token'];

export interface BrowserRequest {
  cookie: string | string[] | undefined;
  acceptLanguage: string | undefined;
}

/**
 * GET /authorize: checks the request, then answers from the browser's SSO session (no UI), with `login_required`
 * (prompt=none without a session), from a login ticket, or with the hosted login page.
 */
@Injectable()
export class AuthorizeService {
  private readonly logger = new Logger('Authorize');

  constructor(
    private readonly parser: AuthorizeRequestParser,
    private readonly sessions: SsoSessions,
    private readonly users: UsersRepository,
    private readonly results: AuthorizationResults,
    private readonly transactions: AuthorizeTransactions,
    private readonly tickets: LoginTicketsRepository,
    private readonly hasher: SecretHasher,
    private readonly random: RandomSource,
    private readonly clock: Clock,
  ) {}

  async authorize(query: unknown, browser: BrowserRequest): Promise<BrowserResponse> {
    const uiLocales = (query as Record<string, unknown> | null)?.ui_locales;
    const locale = pageLocale(typeof uiLocales === 'string' ? uiLocales : undefined, browser.acceptLanguage);
    const parsed = await this.parser.parse(query);
    if (parsed.kind === 'page') return this.errorPage(locale, parsed.error);
    if (parsed.kind === 'redirect') return this.deliverError(parsed.client, parsed.target, parsed.error, locale);
    const request = parsed.request;
    try {
      if (request.loginTicket !== undefined) return await this.withLoginTicket(request, locale);
      const live = await this.liveSession(request, browser.cookie);
      if (request.prompt.includes('none')) {
        // Auth0's log event codes for silent authentication: `ssa` (success), `fsa` (failure).
        if (live && (!request.connection || request.connection.name === live.user.connection)) {
          const answer = await this.respond(request, live.user, live.session, locale);
          annotateRequest({ type: 'ssa' });
          return answer;
        }
        this.logger.log(`Silent authentication failed (client ${request.client.clientId}): login_required`);
        annotateRequest({ type: 'fsa' });
        return this.deliverError(request.client, request.target, authorizeErrors.loginRequired(), locale);
      }
      // As on Auth0, naming a passwordless connection (or prompt=login) asks again instead of reusing the session.
      if (live && !request.connection && !request.prompt.includes('login'))
        return await this.respond(request, live.user, live.session, locale);
      return this.loginPage(request, locale);
    } catch (err) {
      if (err instanceof ApiError && err.status < 500)
        return this.deliverError(request.client, request.target, err, locale);
      throw err;
    }
  }

  /** The hosted page's step 1, with a fresh transaction cookie. */
  loginPage(request: AuthorizeRequest, locale: string, error?: { message: string; status: number }): BrowserResponse {
    if (request.connections.length === 0)
      return this.deliverError(request.client, request.target, authorizeErrors.noPasswordlessConnection(), locale);
    const tx = this.transactions.create(request.params, locale);
    const cookie = this.transactions.cookie(tx);
    if (!cookie) return this.deliverError(request.client, request.target, authorizeErrors.requestTooLarge(), locale);
    const page = identifierPage(
      this.pageContext(request.client, locale),
      {
        txId: tx.id,
        connections: request.connections,
        loginHint: request.loginHint,
        offerLink: offersLink(request),
        error: error?.message,
      },
      error?.status,
    );
    return { ...page, cookies: [cookie] };
  }

  pageContext(client: ClientEntity, locale: string, returnOrigin?: string) {
    return { locale, texts: textsFor(locale), clientName: client.name, nonce: this.random.token(16), returnOrigin };
  }

  /** A login that succeeded: code and/or tokens for the application, in its response mode. */
  async respond(request: AuthorizeRequest, user: User, session: SsoSession, locale: string): Promise<BrowserResponse> {
    const values = await this.results.issue({
      client: request.client,
      user,
      redirectUri: request.target.redirectUri,
      responseType: request.responseType,
      scope: request.scope,
      audience: request.audience,
      nonce: request.nonce,
      codeChallenge: request.codeChallenge,
      authTime: session.authTime,
      sid: session.sid,
    });
    return this.deliver(request.target, values, locale);
  }

  deliverError(client: ClientEntity, target: ResponseTarget, error: ApiError, locale: string): BrowserResponse {
    if (error.detail) this.logger.debug(`authorize error for ${client.clientId}: ${error.error} (${error.detail})`);
    return this.deliver(target, { error: error.error, error_description: error.description }, locale);
  }

  errorPage(locale: string, error: ApiError): BrowserResponse {
    return authorizeErrorPage(
      { locale, texts: textsFor(locale), nonce: this.random.token(16) },
      error.status,
      error.error,
      error.description,
    );
  }

  private deliver(target: ResponseTarget, values: Record<string, string>, locale: string): BrowserResponse {
    const all = target.state === undefined ? values : { ...values, state: target.state };
    const nonce = this.random.token(16);
    switch (target.mode) {
      case 'form_post':
        return formPostPage(target.redirectUri, all, nonce, textsFor(locale));
      case 'web_message':
        return webMessagePage(new URL(target.redirectUri).origin, all, nonce);
      case 'fragment': {
        const url = new URL(target.redirectUri);
        url.hash = new URLSearchParams(all).toString();
        return { kind: 'redirect', location: url.toString() };
      }
      case 'query': {
        const url = new URL(target.redirectUri);
        for (const [key, value] of Object.entries(all)) url.searchParams.set(key, value);
        return { kind: 'redirect', location: url.toString() };
      }
    }
  }

  /** The browser's session and user, if the session is live and young enough for max_age. */
  private async liveSession(
    request: AuthorizeRequest,
    cookie: BrowserRequest['cookie'],
  ): Promise<{ session: SsoSession; user: User } | undefined> {
    const session = await this.sessions.current(cookie);
    if (!session) return undefined;
    const age = this.clock.now().getTime() - session.authTime.getTime();
    if (request.maxAge !== undefined && age > request.maxAge * 1000) return undefined;
    const user = await this.users.findById(session.userId);
    return user ? { session, user } : undefined;
  }

  /** /co/authenticate's ticket: single use, for the client it was issued to; it starts an SSO session. */
  private async withLoginTicket(request: AuthorizeRequest, locale: string): Promise<BrowserResponse> {
    const ticket = request.loginTicket ?? '';
    const userId = await this.tickets.consume(
      this.hasher.hash(request.client.clientId, 'login_ticket', ticket),
      request.client.clientId,
      this.clock.now(),
    );
    const user = userId === undefined ? null : await this.users.findById(userId);
    if (!user) return this.deliverError(request.client, request.target, authorizeErrors.invalidLoginTicket(), locale);
    const { session, cookie } = await this.sessions.create(user.userId);
    const response = await this.respond(request, user, session, locale);
    return { ...response, cookies: [cookie] };
  }
}

/** "Email me a link" goes through /passwordless/verify_redirect, so only where that can answer. */
export function offersLink(request: AuthorizeRequest): boolean {
  const type = request.responseType.join(' ');
  return LINK_RESPONSE_TYPES.includes(type) && request.target.mode === (type === 'code' ? 'query' : 'fragment');
}
