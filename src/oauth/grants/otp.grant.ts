import { Injectable } from '@nestjs/common';
import { PASSWORDLESS_OTP_GRANT, type ClientEntity } from '../../clients/client.entity';
import { loginIdentifier } from '../../verification/identifier';
import { OtpAttemptLimiter } from '../../rate-limit/otp-attempt.limiter';
import { SmsConversionBreaker } from '../../rate-limit/sms-conversion.breaker';
import { TokenIssuer, type TokenResponse } from '../../tokens/token-issuer';
import { failureDescription, VerificationFailure } from '../../verification/otp-verifier';
import { requiredParam, stringParam, type Params } from '../oauth-params';
import { PasswordlessLoginService } from '../passwordless-login.service';
import { OfflineAccess } from './offline-access';
import type { TokenGrant } from './token-grant';
import { tokenErrors } from '../../common/auth0-errors';

/** Auth0's passwordless OTP grant (`http://auth0.com/oauth/grant-type/passwordless/otp`). */
@Injectable()
export class OtpGrant implements TokenGrant {
  readonly grantType = PASSWORDLESS_OTP_GRANT;

  constructor(
    private readonly login: PasswordlessLoginService,
    private readonly issuer: TokenIssuer,
    private readonly otpAttempts: OtpAttemptLimiter,
    private readonly smsBreaker: SmsConversionBreaker,
    private readonly offline: OfflineAccess,
  ) {}

  /** Auth0's order: grant enabled, not a SPA, parameters, realm enabled for the client, then the code itself. */
  async exchange(client: ClientEntity, params: Params, ip: string): Promise<TokenResponse> {
    this.login.requireOtpGrant(client, true);
    const username = requiredParam(params, 'username');
    const otp = requiredParam(params, 'otp');
    const realm = requiredParam(params, 'realm');
    const audience = stringParam(params, 'audience');
    const scope = this.offline.grantedScope(client, stringParam(params, 'scope'), audience);
    const connection = await this.login.enabledConnection(client, realm);
    this.issuer.checkAudience(audience);
    const identifier = loginIdentifier(connection.strategy, username);
    try {
      const user = await this.otpAttempts.attempt({ client, ip, connection: connection.name, identifier }, (floor) =>
        this.login.login({ client, connection, username, secret: otp, acceptLinkToken: false, failureFloor: floor }),
      );
      if (connection.strategy === 'sms') await this.smsBreaker.recordVerified(identifier);
      return await this.offline.issue({ clientId: client.clientId, user, scope, audience });
    } catch (err) {
      if (err instanceof VerificationFailure)
        throw tokenErrors.invalidGrant(failureDescription(err.reason, connection.strategy));
      throw err;
    }
  }
}
