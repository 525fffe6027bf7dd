import { Injectable } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import { authorizeErrors } from '../common/auth0-errors';
import { AppConfig } from '../config/app-config';
import { PasswordlessLoginService } from '../oauth/passwordless-login.service';
import { PasswordlessService } from '../passwordless/passwordless.service';
import type { BrowserResponse } from '../passwordless/browser-response';
import type { StartPasswordlessDto } from '../passwordless/start-passwordless.dto';
import { OtpAttemptLimiter } from '../rate-limit/otp-attempt.limiter';
import { SmsConversionBreaker } from '../rate-limit/sms-conversion.breaker';
import { StartIpLimiter } from '../rate-limit/start-ip.limiter';
import { SsoSessions } from '../sessions/sso-sessions.service';
import type { ConnectionEntity } from '../verification/connection.entity';
import { loginIdentifier } from '../verification/identifier';
import { VerificationFailure, type VerificationFailureReason } from '../verification/otp-verifier';
import type { AuthorizeRequest } from './authorize-request';
import { AuthorizeRequestParser } from './authorize-request';
import { AuthorizeTransactions, type AuthorizeTransaction } from './authorize-transaction';
import { AuthorizeService, offersLink, type BrowserRequest } from './authorize.service';
import { codePage, linkSentPage } from './login-pages';
import { textsFor, type LoginTexts } from './login-texts';

type Form = Record<string, unknown>;
type Step = { tx: AuthorizeTransaction; request: AuthorizeRequest } | { response: BrowserResponse };

/**
 * The hosted page's form posts. Step 1 runs the same start as POST /passwordless/start (limits, records, templates,
 * delivery); step 2 the same verification and attempt limits as the OTP grant. Every post must carry this browser's
 * transaction cookie and the form's copy of its id.
 */
@Injectable()
export class HostedLoginService {
  constructor(
    private readonly authorize: AuthorizeService,
    private readonly parser: AuthorizeRequestParser,
    private readonly transactions: AuthorizeTransactions,
    private readonly passwordless: PasswordlessService,
    private readonly login: PasswordlessLoginService,
    private readonly otpAttempts: OtpAttemptLimiter,
    private readonly smsBreaker: SmsConversionBreaker,
    private readonly ipLimiter: StartIpLimiter,
    private readonly sessions: SsoSessions,
    private readonly config: AppConfig,
  ) {}

  /** Step 1: sends the code (or link) and moves on to step 2. */
  async submitIdentifier(form: Form, browser: BrowserRequest, ip: string): Promise<BrowserResponse> {
    const step = await this.step(form, browser);
    if ('response' in step) return step.response;
    const { tx, request } = step;
    const connection = request.connections.find((c) => c.name === form.connection);
    const raw = connection?.strategy === 'sms' ? form.phone_number : form.email;
    if (!connection || typeof raw !== 'string')
      return this.authorize.errorPage(tx.locale, authorizeErrors.noTransaction());
    const send = form.send === 'link' && connection.strategy === 'email' && offersLink(request) ? 'link' : 'code';
    try {
      const identifier = await this.start(request, tx, connection, raw, send, ip);
      if (send === 'link') return linkSentPage(this.authorize.pageContext(request.client, tx.locale), identifier);
      const next = this.transactions.cookie({ ...tx, connection: connection.name, identifier });
      return { kind: 'redirect', location: `/authorize/challenge?tx=${tx.id}`, cookies: next ? [next] : [] };
    } catch (err) {
      const error = this.pageError(err, textsFor(tx.locale), connection);
      return this.authorize.loginPage({ ...request, loginHint: raw }, tx.locale, error);
    }
  }

  /** Step 2's page (GET, after step 1's redirect). */
  async challenge(query: Form, browser: BrowserRequest): Promise<BrowserResponse> {
    const step = await this.step(query, browser, true);
    if ('response' in step) return step.response;
    return this.codePage(step.tx, step.request);
  }

  /** Step 2's resend: a new start for the same identifier, under the same limits (the cooldown included). */
  async resend(form: Form, browser: BrowserRequest, ip: string): Promise<BrowserResponse> {
    const step = await this.step(form, browser, true);
    if ('response' in step) return step.response;
    const { tx, request } = step;
    const connection = request.connections.find((c) => c.name === tx.connection);
    if (!connection) return this.authorize.errorPage(tx.locale, authorizeErrors.noTransaction());
    try {
      await this.start(request, tx, connection, tx.identifier ?? '', 'code', ip);
      return this.codePage(tx, request, { info: textsFor(tx.locale).resent });
    } catch (err) {
      const error = this.pageError(err, textsFor(tx.locale), connection);
      return this.codePage(tx, request, { error: error.message }, error.status);
    }
  }

  /** Step 2: checks the code; success starts the SSO session and answers the application. */
  async submitCode(form: Form, browser: BrowserRequest, ip: string): Promise<BrowserResponse> {
    const step = await this.step(form, browser, true);
    if ('response' in step) return step.response;
    const { tx, request } = step;
    const texts = textsFor(tx.locale);
    const connection = request.connections.find((c) => c.name === tx.connection);
    const code = typeof form.code === 'string' ? form.code.trim() : '';
    if (!connection || !tx.identifier) return this.authorize.errorPage(tx.locale, authorizeErrors.noTransaction());
    const client = request.client;
    const identifier = loginIdentifier(connection.strategy, tx.identifier);
    try {
      const user = await this.otpAttempts.attempt({ client, ip, connection: connection.name, identifier }, () =>
        this.login.login({ client, connection, username: tx.identifier ?? '', secret: code, acceptLinkToken: false }),
      );
      if (connection.strategy === 'sms') await this.smsBreaker.recordVerified(identifier);
      const { session, cookie } = await this.sessions.create(user.userId);
      const response = await this.authorize.respond(request, user, session, tx.locale);
      return { ...response, cookies: [cookie, this.transactions.clearCookie()] };
    } catch (err) {
      const error = this.pageError(err, texts, connection);
      return this.codePage(tx, request, { error: error.message }, error.status);
    }
  }

  /** The transaction of this browser and form, and its authorization request checked again. */
  private async step(form: Form, browser: BrowserRequest, needsIdentifier = false): Promise<Step> {
    const tx = this.transactions.open(browser.cookie, form.tx);
    const locale = tx?.locale ?? 'en';
    if (!tx || (needsIdentifier && !tx.identifier))
      return { response: this.authorize.errorPage(locale, authorizeErrors.noTransaction()) };
    const parsed = await this.parser.parse(tx.params);
    if (parsed.kind === 'page') return { response: this.authorize.errorPage(locale, parsed.error) };
    if (parsed.kind === 'redirect')
      return { response: this.authorize.deliverError(parsed.client, parsed.target, parsed.error, locale) };
    return { tx, request: parsed.request };
  }

  /** POST /passwordless/start's checks and effects, charged to the browser's IP like any start. */
  private async start(
    request: AuthorizeRequest,
    tx: AuthorizeTransaction,
    connection: ConnectionEntity,
    raw: string,
    send: 'code' | 'link',
    ip: string,
  ): Promise<string> {
    const limit = this.config.rateLimit.defaults.startPerIp;
    this.ipLimiter.refuseIfRemembered(ip, limit);
    await this.ipLimiter.charge({ ip, limit });
    const dto = { connection: connection.name, send } as StartPasswordlessDto;
    if (connection.strategy === 'sms') dto.phone_number = raw;
    else dto.email = raw;
    if (send === 'link') dto.authParams = linkParams(request);
    const started = await this.passwordless.start(request.client, dto, { ip, requestLanguage: tx.locale });
    return 'email' in started ? started.email : started.phone_number;
  }

  private codePage(
    tx: AuthorizeTransaction,
    request: AuthorizeRequest,
    notes: { error?: string; info?: string } = {},
    status = 200,
  ): BrowserResponse {
    const origin = new URL(request.target.redirectUri).origin;
    return codePage(
      this.authorize.pageContext(request.client, tx.locale, origin),
      {
        txId: tx.id,
        identifier: tx.identifier ?? '',
        restartUrl: `/authorize?${new URLSearchParams(tx.params).toString()}`,
        ...notes,
      },
      status,
    );
  }

  /** Auth0's texts for what went wrong, in the page's language. */
  private pageError(
    err: unknown,
    texts: LoginTexts,
    connection: ConnectionEntity,
  ): { message: string; status: number } {
    if (err instanceof VerificationFailure) return { message: failureText(err.reason, texts, connection), status: 400 };
    if (!(err instanceof ApiError)) throw err;
    if (err.status === 503) return { message: texts.unavailable, status: 503 };
    if (err.error === 'too_many_attempts') return { message: texts.maxAttempts, status: 429 };
    if (err.status === 429) return { message: texts.tooManyRequests, status: 429 };
    if (err.error === 'bad.email') return { message: texts.invalidEmail, status: 400 };
    if (err.error === 'bad.phone_number') return { message: texts.invalidPhone, status: 400 };
    return { message: err.description, status: err.status };
  }
}

function failureText(reason: VerificationFailureReason, texts: LoginTexts, connection: ConnectionEntity): string {
  if (reason === 'expired') return texts.expired;
  if (reason === 'max_attempts') return texts.maxAttempts;
  return connection.strategy === 'sms' ? texts.wrongPhoneCode : texts.wrongEmailCode;
}

/** The link's parameters: /passwordless/verify_redirect checks them as /authorize did and binds them to the link. */
function linkParams(request: AuthorizeRequest): Record<string, string> {
  const p = request.params;
  const params: Record<string, string> = {
    redirect_uri: request.target.redirectUri,
    response_type: request.responseType.join(' '),
  };
  for (const key of ['scope', 'state', 'nonce', 'audience', 'code_challenge', 'code_challenge_method'])
    if (p[key] !== undefined) params[key] = p[key];
  return params;
}
