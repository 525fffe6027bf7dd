import { Injectable, Logger } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import { crossOriginErrors } from '../common/auth0-errors';
import { Clock } from '../common/clock';
import { RandomSource } from '../common/random.source';
import { PASSWORDLESS_OTP_GRANT } from '../clients/client.entity';
import { ClientsRepository } from '../clients/clients.repository';
import { PasswordlessLoginService } from '../oauth/passwordless-login.service';
import { OtpAttemptLimiter } from '../rate-limit/otp-attempt.limiter';
import { SmsConversionBreaker } from '../rate-limit/sms-conversion.breaker';
import { ConnectionsRepository } from '../verification/connections.repository';
import { loginIdentifier } from '../verification/identifier';
import { failureDescription, VerificationFailure } from '../verification/otp-verifier';
import { SecretHasher } from '../verification/secret-hasher';
import { LoginTicketsRepository } from './login-tickets.repository';
import { annotateRequest } from '../observability/logging';

/** Long enough for the browser to follow the SDK's redirect to /authorize, no longer. */
const LOGIN_TICKET_TTL_MS = 2 * 60 * 1000;
const BODY_KEYS = ['client_id', 'credential_type', 'otp', 'realm', 'username'];

export interface CrossOriginTicket {
  login_ticket: string;
  co_verifier: string;
  co_id: string;
}

/**
 * POST /co/authenticate for auth0.js passwordlessLogin on the application's own page: checks the code like the OTP
 * grant (same verifier and attempt limits) and answers a single-use ticket that /authorize?login_ticket= redeems for
 * the same client. Only clients with Allowed Web Origins, called from one of them, may use it.
 */
@Injectable()
export class CrossOriginLoginService {
  private readonly logger = new Logger('CrossOriginAuth');

  constructor(
    private readonly clients: ClientsRepository,
    private readonly connections: ConnectionsRepository,
    private readonly login: PasswordlessLoginService,
    private readonly otpAttempts: OtpAttemptLimiter,
    private readonly smsBreaker: SmsConversionBreaker,
    private readonly tickets: LoginTicketsRepository,
    private readonly hasher: SecretHasher,
    private readonly random: RandomSource,
    private readonly clock: Clock,
  ) {}

  async authenticate(body: unknown, origin: string | undefined, ip: string): Promise<CrossOriginTicket> {
    const fields = typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {};
    const entries = Object.entries(fields);
    if (
      entries.length !== BODY_KEYS.length ||
      !entries.every(([key, value]) => BODY_KEYS.includes(key) && typeof value === 'string' && value !== '')
    )
      throw crossOriginErrors.invalidBody();
    const params = fields as Record<string, string>;
    const client = await this.clients.findById(params.client_id);
    if (!client || origin === undefined || !client.webOrigins.includes(origin)) throw crossOriginErrors.notAllowed();
    if (params.credential_type !== PASSWORDLESS_OTP_GRANT) throw crossOriginErrors.unsupportedCredentialType();
    this.login.requireOtpGrant(client, false);
    const connection = await this.connections.findByName(params.realm);
    if (!connection || !client.connections.includes(connection.name))
      throw crossOriginErrors.unknownRealm(params.realm);
    const identifier = loginIdentifier(connection.strategy, params.username);
    try {
      const user = await this.otpAttempts.attempt({ client, ip, connection: connection.name, identifier }, () =>
        this.login.login({ client, connection, username: params.username, secret: params.otp, acceptLinkToken: false }),
      );
      if (connection.strategy === 'sms') await this.smsBreaker.recordVerified(identifier);
      const ticket = this.random.token(32);
      const now = this.clock.now();
      await this.tickets.create(
        {
          ticketHmac: this.hasher.hash(client.clientId, 'login_ticket', ticket),
          clientId: client.clientId,
          userId: user.userId,
          connection: connection.name,
          expiresAt: new Date(now.getTime() + LOGIN_TICKET_TTL_MS),
        },
        now,
      );
      this.logger.log(`Cross-origin authentication (client ${client.clientId})`);
      annotateRequest({ type: 'scoa' });
      return { login_ticket: ticket, co_verifier: this.random.token(32), co_id: this.random.token(12) };
    } catch (err) {
      if (err instanceof VerificationFailure) {
        const description = failureDescription(err.reason, connection.strategy);
        throw err.reason === 'max_attempts'
          ? crossOriginErrors.tooManyAttempts(description)
          : crossOriginErrors.accessDenied(description);
      }
      if (err instanceof ApiError && err.error === 'too_many_attempts')
        throw crossOriginErrors.tooManyAttempts(err.description);
      throw err;
    }
  }
}
