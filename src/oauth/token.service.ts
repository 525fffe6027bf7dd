import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { constantTimeEqual } from '../common/constant-time';
import { ApiError } from '../common/api-error';
import { echo } from '../common/auth0-validation';
import { Clock } from '../common/clock';
import { PASSWORDLESS_OTP_GRANT, type ClientEntity } from '../clients/client.entity';
import { loginIdentifier } from '../passwordless/identifier';
import { OtpAttemptLimiter } from '../rate-limit/otp-attempt.limiter';
import { SmsConversionBreaker } from '../rate-limit/sms-conversion.breaker';
import { TokenIssuer, type TokenResponse } from '../tokens/token-issuer';
import { UsersRepository } from '../users/users.repository';
import { failureDescription, VerificationFailure } from '../verification/otp-verifier';
import { SecretHasher } from '../verification/secret-hasher';
import { AuthorizationCodesRepository } from './authorization-codes.repository';
import { asParams, requiredParam, stringParam, type Params } from './oauth-params';
import { PasswordlessLoginService } from './passwordless-login.service';

/** RFC 7636 §4.1: 43 to 128 unreserved characters. */
const CODE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

/** POST /oauth/token: the passwordless OTP grant and the authorization_code grant of the magic-link flow. */
@Injectable()
export class TokenService {
  constructor(
    private readonly login: PasswordlessLoginService,
    private readonly issuer: TokenIssuer,
    private readonly codes: AuthorizationCodesRepository,
    private readonly users: UsersRepository,
    private readonly hasher: SecretHasher,
    private readonly clock: Clock,
    private readonly otpAttempts: OtpAttemptLimiter,
    private readonly smsBreaker: SmsConversionBreaker,
  ) {}

  /** `ip`: the end user's IP, for the failed-attempt limits. */
  exchange(client: ClientEntity, body: unknown, ip: string): Promise<TokenResponse> {
    const params = asParams(body);
    const grantType = requiredParam(params, 'grant_type');
    if (grantType === PASSWORDLESS_OTP_GRANT) return this.otpGrant(client, params, ip);
    if (grantType === 'authorization_code') return this.authorizationCodeGrant(client, params);
    throw new ApiError(400, 'unsupported_grant_type', `Unsupported grant type: ${echo(grantType)}`);
  }

  /** Auth0's order: grant enabled, not a SPA, parameters, realm enabled for the client, then the code itself. */
  private async otpGrant(client: ClientEntity, params: Params, ip: string): Promise<TokenResponse> {
    this.login.requireOtpGrant(client, true);
    const username = requiredParam(params, 'username');
    const otp = requiredParam(params, 'otp');
    const realm = requiredParam(params, 'realm');
    const scope = this.issuer.grantedScope(stringParam(params, 'scope'));
    const audience = stringParam(params, 'audience');
    const connection = await this.login.enabledConnection(client, realm);
    this.issuer.checkAudience(audience);
    const identifier = loginIdentifier(connection.strategy, username);
    try {
      const user = await this.otpAttempts.attempt({ client, ip, connection: connection.name, identifier }, () =>
        this.login.login({ client, connection, username, secret: otp, acceptLinkToken: false }),
      );
      if (connection.strategy === 'sms') await this.smsBreaker.recordVerified(identifier);
      return await this.issuer.issue({ clientId: client.clientId, user, scope, audience });
    } catch (err) {
      if (err instanceof VerificationFailure)
        throw new ApiError(403, 'invalid_grant', failureDescription(err.reason, connection.strategy));
      throw err;
    }
  }

  /** RFC 6749 §4.1.3 with PKCE (RFC 7636): checks come before the atomic consume, so a failed attempt spends nothing. */
  private async authorizationCodeGrant(client: ClientEntity, params: Params): Promise<TokenResponse> {
    this.login.requireGrant(client, 'authorization_code');
    const code = requiredParam(params, 'code');
    const redirectUri = stringParam(params, 'redirect_uri');
    const verifier = stringParam(params, 'code_verifier');
    const now = this.clock.now();
    const codeHmac = this.hasher.hash(client.clientId, 'authorization_code', code);
    const grant = await this.codes.findRedeemable(codeHmac, client.clientId, now);
    if (!grant) throw new ApiError(403, 'invalid_grant', 'Invalid authorization code');
    // RFC 6749 §4.1.3: the redirect_uri of the authorization request (always present here) must be repeated.
    if (redirectUri !== grant.redirectUri) throw new ApiError(403, 'invalid_grant', 'Invalid redirect_uri');
    if (grant.codeChallenge !== null && !pkceMatches(verifier, grant.codeChallenge)) {
      throw new ApiError(403, 'invalid_grant', 'Failed to verify code verifier');
    }
    // RFC 9700 §2.1.1 (PKCE downgrade): a verifier for a code issued without a challenge is refused.
    if (grant.codeChallenge === null && verifier !== undefined)
      throw new ApiError(403, 'invalid_grant', 'Failed to verify code verifier');
    const user = await this.users.findById(grant.userId);
    if (!user || !(await this.codes.consume(codeHmac, now)))
      throw new ApiError(403, 'invalid_grant', 'Invalid authorization code');
    return this.issuer.issue({
      clientId: client.clientId,
      user,
      scope: grant.scope,
      audience: grant.audience ?? undefined,
      nonce: grant.nonce ?? undefined,
    });
  }
}

/** S256 only: `plain` would hand the verifier to anyone who saw the authorization request. */
function pkceMatches(verifier: string | undefined, challenge: string): boolean {
  if (verifier === undefined || !CODE_VERIFIER.test(verifier)) return false;
  const actual = Buffer.from(createHash('sha256').update(verifier).digest('base64url'));
  const expected = Buffer.from(challenge);
  return constantTimeEqual(actual, expected);
}
