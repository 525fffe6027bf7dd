import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import type { ConnectionEntity } from './connection.entity';
import type { FailureFloor } from './failure-floor';
import { SecretHasher } from './secret-hasher';
import type { VerificationEntity } from './verification.entity';
import { type UserLoginRow, VerificationsRepository } from './verifications.repository';

/** Why a code or link was refused; each endpoint words it in its own Auth0 dialect. */
export type VerificationFailureReason = 'wrong' | 'expired' | 'max_attempts';

export class VerificationFailure extends Error {
  constructor(readonly reason: VerificationFailureReason) {
    super(`verification failed: ${reason}`);
  }
}

export interface RedeemRequest {
  clientId: string;
  connection: ConnectionEntity;
  /** Normalised email or E.164 number. */
  identifier: string;
  candidate: string;
  /** Magic links carry a 256-bit token instead of the code; only the link endpoint accepts it. */
  acceptLinkToken: boolean;
  /** Set while Redis is unavailable: the attempt counts only under the identifier's failure limit (Postgres). */
  failureFloor?: FailureFloor;
  /**
   * Spend the code and log the identifier's user in (created with this id if new). Without, the code is only proved
   * (legacy /passwordless/verify) and the record left for the redirect step.
   */
  login?: { newUserId: string };
}

/**
 * The single place a code or link token is checked (the OTP grant, the legacy verify and the magic link all come
 * here), in Auth0's order: a pending latest record, not expired, attempts left, secret matches.
 */
@Injectable()
export class OtpVerifier {
  constructor(
    private readonly verifications: VerificationsRepository,
    private readonly hasher: SecretHasher,
    private readonly clock: Clock,
  ) {}

  /** The user the spent code logged in, when the request asked for `login`. Throws VerificationFailure. */
  async redeem(request: RedeemRequest): Promise<UserLoginRow | undefined> {
    const now = this.clock.now();
    const record = await this.verifications.findLive(
      request.clientId,
      request.connection.name,
      request.identifier,
      now,
    );
    if (!record) throw new VerificationFailure('wrong');
    if (record.expiresAt.getTime() <= now.getTime()) throw new VerificationFailure('expired');
    if (record.failedAttempts >= request.connection.maxAttempts) throw new VerificationFailure('max_attempts');
    // Compared before the write, which then counts the attempt and spends the record in one statement: a result
    // counts only if that statement found the record still redeemable and under its attempt cap.
    const matched = this.matches(record, request);
    const { settled, login } = await this.verifications.settleAttempt(
      record.id,
      { matched, maxAttempts: request.connection.maxAttempts, now, login: request.login },
      request.failureFloor && {
        ...request.failureFloor,
        connection: request.connection.name,
        identifier: request.identifier,
      },
    );
    if (!settled)
      throw new VerificationFailure(await this.whyUnavailable(record.id, request.connection.maxAttempts, now));
    if (!matched) throw new VerificationFailure('wrong');
    return login;
  }

  private matches(record: VerificationEntity, request: RedeemRequest): boolean {
    const code = this.hasher.matches(record.id, 'code', request.candidate, record.codeHmac);
    const link =
      request.acceptLinkToken &&
      record.linkTokenHmac !== null &&
      this.hasher.matches(record.id, 'link', request.candidate, record.linkTokenHmac);
    return code || link;
  }

  /** The record changed between read and reservation: report what a fresh read shows. */
  private async whyUnavailable(id: string, maxAttempts: number, now: Date): Promise<VerificationFailureReason> {
    const current = await this.verifications.findById(id);
    if (!current || current.consumedAt || current.supersededAt) return 'wrong';
    if (current.expiresAt.getTime() <= now.getTime()) return 'expired';
    return current.failedAttempts >= maxAttempts ? 'max_attempts' : 'wrong';
  }
}

/** Auth0's descriptions for a refused code (docs/auth0-compatibility.md), shared by every endpoint. */
export function failureDescription(reason: VerificationFailureReason, strategy: ConnectionEntity['strategy']): string {
  switch (reason) {
    case 'wrong':
      return strategy === 'sms' ? 'Wrong phone number or verification code.' : 'Wrong email or verification code.';
    case 'expired':
      return 'The verification code has expired. Please try to login again.';
    case 'max_attempts':
      return "You've reached the maximum number of attempts. Please try to login again.";
  }
}
