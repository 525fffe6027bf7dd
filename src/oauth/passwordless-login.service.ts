import { Injectable } from '@nestjs/common';
import { PASSWORDLESS_OTP_GRANT, type ClientEntity } from '../clients/client.entity';
import { loginIdentifier } from '../verification/identifier';
import { toUser, UsersRepository, type User } from '../users/users.repository';
import type { ConnectionEntity } from '../verification/connection.entity';
import { ConnectionsRepository } from '../verification/connections.repository';
import { OtpVerifier } from '../verification/otp-verifier';
import type { UserLoginRow } from '../verification/verifications.repository';
import type { FailureFloor } from '../verification/failure-floor';
import { clientAuthErrors, tokenErrors } from '../common/auth0-errors';

export interface LoginAttempt {
  client: ClientEntity;
  connection: ConnectionEntity;
  /** Email or phone number as the caller sent it. */
  username: string;
  secret: string;
  acceptLinkToken: boolean;
  /** From OtpAttemptLimiter while Redis is unavailable. */
  failureFloor?: FailureFloor;
}

/** What the OTP grant, the legacy verify and the magic link share: grant and connection checks, then the verifier. */
@Injectable()
export class PasswordlessLoginService {
  constructor(
    private readonly connections: ConnectionsRepository,
    private readonly verifier: OtpVerifier,
    private readonly users: UsersRepository,
  ) {}

  /** `refuseSpa`: Auth0 cannot enable the grant on SPAs for /oauth/token ("You cannot use this endpoint from SPAs"). */
  requireOtpGrant(client: ClientEntity, refuseSpa: boolean): void {
    if (!client.grantTypes.includes(PASSWORDLESS_OTP_GRANT) || (refuseSpa && client.appType === 'spa')) {
      throw clientAuthErrors.grantNotAllowed(PASSWORDLESS_OTP_GRANT);
    }
  }

  /** Auth0's wording for any grant the client's `grant_types` lack (`authorization_code`, `implicit`, ...). */
  requireGrant(client: ClientEntity, grant: string): void {
    if (!client.grantTypes.includes(grant)) throw clientAuthErrors.grantNotAllowed(grant);
  }

  /** Auth0's /oauth/token wording (E-token) for a realm/connection that is unknown or not enabled for the client. */
  async enabledConnection(client: ClientEntity, name: string): Promise<ConnectionEntity> {
    const connection = await this.connections.findByName(name);
    if (!connection) throw tokenErrors.connectionNotFound();
    if (!client.connections.includes(connection.name)) throw tokenErrors.connectionDisabled();
    return connection;
  }

  /** Spends the code (or link token) and returns the user it logs in (created if new). Throws VerificationFailure. */
  async login(attempt: LoginAttempt): Promise<User> {
    const login = await this.redeem(attempt, { newUserId: this.users.newUserId(attempt.connection.strategy) });
    if (!login) throw new Error('a spent code logged no user in');
    return toUser(login);
  }

  /** Proves the code without spending it (legacy /passwordless/verify, whose redirect step consumes). */
  async check(attempt: LoginAttempt): Promise<void> {
    await this.redeem(attempt);
  }

  /** With `login` the code is spent and its user logged in; without, only proved. */
  private redeem(attempt: LoginAttempt, login?: { newUserId: string }): Promise<UserLoginRow | undefined> {
    return this.verifier.redeem({
      clientId: attempt.client.clientId,
      connection: attempt.connection,
      identifier: loginIdentifier(attempt.connection.strategy, attempt.username),
      candidate: attempt.secret,
      acceptLinkToken: attempt.acceptLinkToken,
      failureFloor: attempt.failureFloor,
      login,
    });
  }
}
