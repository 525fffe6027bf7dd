import { Injectable } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import { Clock } from '../common/clock';
import { PASSWORDLESS_OTP_GRANT, type ClientEntity } from '../clients/client.entity';
import { loginIdentifier } from '../verification/identifier';
import { UsersRepository, type User } from '../users/users.repository';
import type { ConnectionEntity } from '../verification/connection.entity';
import { ConnectionsRepository } from '../verification/connections.repository';
import { OtpVerifier } from '../verification/otp-verifier';

export interface LoginAttempt {
  client: ClientEntity;
  connection: ConnectionEntity;
  /** Email or phone number as the caller sent it. */
  username: string;
  secret: string;
  acceptLinkToken: boolean;
}

/** What the OTP grant, the legacy verify and the magic link share: grant and connection checks, then the verifier. */
@Injectable()
export class PasswordlessLoginService {
  constructor(
    private readonly connections: ConnectionsRepository,
    private readonly verifier: OtpVerifier,
    private readonly users: UsersRepository,
    private readonly clock: Clock,
  ) {}

  /** `refuseSpa`: Auth0 cannot enable the grant on SPAs for /oauth/token ("You cannot use this endpoint from SPAs"). */
  requireOtpGrant(client: ClientEntity, refuseSpa: boolean): void {
    if (!client.grantTypes.includes(PASSWORDLESS_OTP_GRANT) || (refuseSpa && client.appType === 'spa')) {
      throw new ApiError(
        403,
        'unauthorized_client',
        `Grant type '${PASSWORDLESS_OTP_GRANT}' not allowed for the client.`,
      );
    }
  }

  /** Auth0's wording for any grant the client's `grant_types` lack (`authorization_code`, `implicit`, ...). */
  requireGrant(client: ClientEntity, grant: string): void {
    if (!client.grantTypes.includes(grant))
      throw new ApiError(403, 'unauthorized_client', `Grant type '${grant}' not allowed for the client.`);
  }

  /** Auth0's /oauth/token wording (E-token) for a realm/connection that is unknown or not enabled for the client. */
  async enabledConnection(client: ClientEntity, name: string): Promise<ConnectionEntity> {
    const connection = await this.connections.findByName(name);
    if (!connection) throw new ApiError(400, 'invalid_request', 'the connection was not found');
    if (!client.connections.includes(connection.name))
      throw new ApiError(400, 'invalid_request', 'the connection was disabled');
    return connection;
  }

  /** Spends the code (or link token) and returns the user it logs in. Throws VerificationFailure. */
  async login(attempt: LoginAttempt): Promise<User> {
    const identifier = await this.redeem(attempt, true);
    return this.users.loginVerified(attempt.connection.name, attempt.connection.strategy, identifier, this.clock.now());
  }

  /** Proves the code without spending it (legacy /passwordless/verify, whose redirect step consumes). */
  async check(attempt: LoginAttempt): Promise<void> {
    await this.redeem(attempt, false);
  }

  private async redeem(attempt: LoginAttempt, consume: boolean): Promise<string> {
    const identifier = loginIdentifier(attempt.connection.strategy, attempt.username);
    await this.verifier.redeem({
      clientId: attempt.client.clientId,
      connection: attempt.connection,
      identifier,
      candidate: attempt.secret,
      acceptLinkToken: attempt.acceptLinkToken,
      consume,
    });
    return identifier;
  }
}
