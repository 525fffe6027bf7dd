import { Injectable } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import { Clock } from '../common/clock';
import { RandomSource } from '../common/random.source';
import type { ClientEntity } from '../clients/client.entity';
import { ClientsRepository } from '../clients/clients.repository';
import { AuthorizationResults } from '../oauth/authorization-results';
import { asParams } from '../oauth/oauth-params';
import { PasswordlessLoginService } from '../oauth/passwordless-login.service';
import { TokenIssuer } from '../tokens/token-issuer';
import type { User } from '../users/users.repository';
import { failureDescription, VerificationFailure } from '../verification/otp-verifier';
import { VerificationsRepository } from '../verification/verifications.repository';
import { OtpAttemptLimiter } from '../rate-limit/otp-attempt.limiter';
import { SmsConversionBreaker } from '../rate-limit/sms-conversion.breaker';
import { confirmationPage, errorPage, type BrowserResponse } from './browser-response';
import { loginIdentifier } from '../verification/identifier';
import { linkErrors } from '../common/auth0-errors';

/** What a link may ask for: the SDKs' passwordless flows never use the hybrid types. */
const RESPONSE_TYPES = ['code', 'token', 'id_token', 'id_token token'];
/** RFC 7636 §4.2: base64url of a SHA-256 digest. */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
/** Link parameters that decide where and how the result is delivered; they must match what start stored. */
const BOUND_LINK_PARAMS = [
  'redirect_uri',
  'response_type',
  'response_mode',
  'code_challenge',
  'code_challenge_method',
  'nonce',
  'scope',
  'audience',
  'state',
];

interface Flow {
  client: ClientEntity;
  params: Record<string, string>;
  redirectUri: string;
  responseType: string[];
}

/**
 * GET /passwordless/verify_redirect answers a confirmation page and consumes nothing; the page's POST verifies the
 * link token (or, from auth0.js, the code) and redirects to the application with a one-time code or tokens.
 */
@Injectable()
export class VerifyRedirectService {
  constructor(
    private readonly clients: ClientsRepository,
    private readonly login: PasswordlessLoginService,
    private readonly issuer: TokenIssuer,
    private readonly results: AuthorizationResults,
    private readonly random: RandomSource,
    private readonly otpAttempts: OtpAttemptLimiter,
    private readonly verifications: VerificationsRepository,
    private readonly smsBreaker: SmsConversionBreaker,
    private readonly clock: Clock,
  ) {}

  async page(query: unknown): Promise<BrowserResponse> {
    const flow = await this.flow(query);
    if ('kind' in flow) return flow;
    return confirmationPage(flow.params, flow.redirectUri, this.random.token(16));
  }

  /** `ip`: the browser's IP, for the same failed-attempt limits as the OTP grant. */
  async complete(body: unknown, ip: string): Promise<BrowserResponse> {
    const flow = await this.flow(body);
    if ('kind' in flow) return flow;
    try {
      return { kind: 'redirect', location: await this.authorize(flow, ip) };
    } catch (err) {
      // Once client and redirect_uri are trusted, errors go to the application (RFC 6749 §4.1.2.1 / §4.2.2.1).
      if (err instanceof ApiError && err.status < 500)
        return this.redirectWith(flow, { error: err.error, error_description: err.description });
      throw err;
    }
  }

  /** Only a known client and one of its callback URLs earn a redirect; anything else gets an error page. */
  private async flow(input: unknown): Promise<Flow | BrowserResponse> {
    const params = Object.fromEntries(
      Object.entries(asParams(input)).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
    );
    const client = params.client_id ? await this.clients.findById(params.client_id) : null;
    if (!client) return errorPage(400, 'The link names an unknown application.');
    const redirectUri = params.redirect_uri;
    if (!redirectUri || !client.callbacks.includes(redirectUri) || !isWebUrl(redirectUri)) {
      return errorPage(400, 'The link’s redirect_uri is not an allowed callback URL of the application.');
    }
    return {
      client,
      params,
      redirectUri,
      responseType: (params.response_type ?? 'code').split(' ').filter(Boolean).sort(),
    };
  }

  private async authorize(flow: Flow, ip: string): Promise<string> {
    const { client, params } = flow;
    const responseType = flow.responseType.join(' ');
    if (!RESPONSE_TYPES.includes(responseType)) throw linkErrors.unsupportedResponseType(responseType);
    const wantsIdToken = flow.responseType.includes('id_token');
    // OIDC Core §3.2.2.1: nonce is required when an id_token is returned from the authorization endpoint.
    if (wantsIdToken && !params.nonce) throw linkErrors.nonceRequired();
    if (
      params.code_challenge !== undefined &&
      (params.code_challenge_method !== 'S256' || !S256_CHALLENGE.test(params.code_challenge))
    ) {
      throw linkErrors.codeChallengeNotS256();
    }
    // RFC 9700 §2.1.1: a public client's code must be bound to a PKCE challenge, else whoever intercepts it redeems it.
    if (responseType === 'code' && client.authMethod === 'none' && params.code_challenge === undefined) {
      throw linkErrors.codeChallengeRequired();
    }
    this.login.requireOtpGrant(client, false);
    // The link's response type is a grant of its own: a code needs `authorization_code`, fragment tokens `implicit`.
    this.login.requireGrant(client, responseType === 'code' ? 'authorization_code' : 'implicit');
    const connection = await this.login.enabledConnection(client, params.connection ?? '');
    const username = connection.strategy === 'email' ? params.email : params.phone_number;
    if (!username || !params.verification_code) throw linkErrors.incomplete();
    const identifier = loginIdentifier(connection.strategy, username);
    await this.requireUnalteredLink(client.clientId, connection.name, identifier, params);
    this.issuer.checkAudience(params.audience);

    let user: User;
    try {
      // The same per-IP and per-identifier failure limits as /oauth/token, so a lock-out there cannot be bypassed here.
      user = await this.otpAttempts.attempt({ client, ip, connection: connection.name, identifier }, (floor) =>
        this.login.login({
          client,
          connection,
          username,
          secret: params.verification_code,
          acceptLinkToken: true,
          failureFloor: floor,
        }),
      );
      if (connection.strategy === 'sms') await this.smsBreaker.recordVerified(identifier);
    } catch (err) {
      if (err instanceof VerificationFailure)
        throw linkErrors.accessDenied(failureDescription(err.reason, connection.strategy));
      throw err;
    }
    const values = await this.results.issue({
      client,
      user,
      redirectUri: flow.redirectUri,
      responseType: flow.responseType,
      scope: params.scope,
      audience: params.audience,
      nonce: params.nonce,
      codeChallenge: params.code_challenge,
    });
    return this.redirectWith(flow, values).location;
  }

  /**
   * A magic link's parameters are the start request's authParams. Whoever holds the link token (a mail scanner, a
   * forwarded mail) must not rewrite them, e.g. turn a PKCE-bound code flow into an implicit one or pick another
   * registered callback. Codes typed into auth0.js (digits) carry the SDK's own parameters and are not bound.
   */
  private async requireUnalteredLink(
    clientId: string,
    connection: string,
    identifier: string,
    params: Record<string, string>,
  ): Promise<void> {
    if (/^\d+$/.test(params.verification_code ?? '')) return;
    const record = await this.verifications.findLive(clientId, connection, identifier, this.clock.now());
    if (!record || record.send !== 'link') return;
    const altered = BOUND_LINK_PARAMS.filter((key) => params[key] !== record.authParams[key]);
    if (altered.length > 0) throw linkErrors.altered(altered);
  }

  /** Results go in the query for `code` and in the fragment for implicit response types, always with `state`. */
  private redirectWith(flow: Flow, values: Record<string, string>): { kind: 'redirect'; location: string } {
    const url = new URL(flow.redirectUri);
    const all = flow.params.state === undefined ? values : { ...values, state: flow.params.state };
    if (flow.responseType.join(' ') === 'code' || !RESPONSE_TYPES.includes(flow.responseType.join(' '))) {
      for (const [key, value] of Object.entries(all)) url.searchParams.set(key, value);
    } else {
      url.hash = new URLSearchParams(all).toString();
    }
    return { kind: 'redirect', location: url.toString() };
  }
}

/** Callbacks are registered data, but a redirect must still be an absolute http(s) URL (never javascript: or data:). */
function isWebUrl(value: string): boolean {
  return URL.canParse(value) && ['http:', 'https:'].includes(new URL(value).protocol);
}
