import { Injectable } from '@nestjs/common';
import type { ClientEntity } from '../clients/client.entity';
import { asParams, requiredParam, stringParam } from '../oauth/oauth-params';
import { PasswordlessLoginService } from '../oauth/passwordless-login.service';
import { OtpAttemptLimiter } from '../rate-limit/otp-attempt.limiter';
import { SmsConversionBreaker } from '../rate-limit/sms-conversion.breaker';
import { loginIdentifier } from '../verification/identifier';
import { failureDescription, VerificationFailure } from '../verification/otp-verifier';
import { tokenErrors } from '../common/auth0-errors';

/**
 * Legacy POST /passwordless/verify (§4.2). Accepts both the shape auth0.js sends (`verification_code` + `email` |
 * `phone_number`) and the documented one (`username` + `password`). It proves the code without spending it: the
 * browser then goes to /passwordless/verify_redirect with the same code, which consumes it.
 */
@Injectable()
export class LegacyVerifyService {
  constructor(
    private readonly login: PasswordlessLoginService,
    private readonly otpAttempts: OtpAttemptLimiter,
    private readonly smsBreaker: SmsConversionBreaker,
  ) {}

  /** `ip`: the end user's IP, for the failed-attempt limits. */
  async verify(client: ClientEntity, body: unknown, ip: string): Promise<Record<string, never>> {
    const params = asParams(body);
    const connectionName = requiredParam(params, 'connection');
    const username =
      stringParam(params, 'email') ?? stringParam(params, 'phone_number') ?? stringParam(params, 'username');
    if (!username) throw tokenErrors.missingParameter('username');
    const secret = stringParam(params, 'verification_code') ?? stringParam(params, 'password');
    if (!secret) throw tokenErrors.missingParameter('password');
    stringParam(params, 'scope'); // validated only: the tokens' scope comes from the verify_redirect step
    this.login.requireOtpGrant(client, false);
    const connection = await this.login.enabledConnection(client, connectionName);
    const identifier = loginIdentifier(connection.strategy, username);
    try {
      await this.otpAttempts.attempt({ client, ip, connection: connection.name, identifier }, (floor) =>
        this.login.check({ client, connection, username, secret, acceptLinkToken: false, failureFloor: floor }),
      );
      if (connection.strategy === 'sms') await this.smsBreaker.recordVerified(identifier);
    } catch (err) {
      if (!(err instanceof VerificationFailure)) throw err;
      const description = failureDescription(err.reason, connection.strategy);
      throw err.reason === 'max_attempts'
        ? tokenErrors.tooManyAttempts(description)
        : tokenErrors.invalidUserPassword(description);
    }
    return {};
  }
}
