import { Injectable } from '@nestjs/common';
import type { ClientEntity } from '../clients/client.entity';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { ipLimitKey } from './ip-limit-key';
import { effectiveLimits } from '../clients/client-rate-limits';
import { identifierKey, pausedUntil, rateLimitHeaders, tooManyRequests } from './rate-limit.response';
import { SlidingWindowStore, type LimitState } from './sliding-window.store';
import type { ApiError } from '../common/api-error';
import { FailureFloorReached, type FailureFloor } from '../verification/failure-floor';

export interface OtpAttemptSubject {
  client: ClientEntity;
  /** The end user's IP (see endUserIp: `auth0-forwarded-for` only from a trusted confidential client). */
  ip: string;
  /** The realm (connection name) and the normalised username, as the verification record stores them. */
  connection: string;
  identifier: string;
}

/** An attempt admitted by OtpAttemptLimiter. It counts as failed unless `succeeded()` is called. */
export class OtpAttempt {
  constructor(
    private readonly store: SlidingWindowStore,
    private readonly states: LimitState[],
    /** Set when Redis was unavailable: the verification must settle the attempt under this Postgres floor. */
    readonly floor?: FailureFloor,
    /** The backoff gate this attempt closed, if any: reopened when the code was right. */
    private readonly closedGate?: string,
  ) {}

  /** The code was right: the attempt is given back, so only failures count, and it holds no one back. */
  async succeeded(): Promise<void> {
    await Promise.all([
      this.store.refund(this.states),
      ...(this.closedGate ? [this.store.clear([this.closedGate])] : []),
    ]);
  }

  /** Refused after it was charged (a closed backoff gate): nothing of it counts. */
  async withdraw(): Promise<void> {
    await this.store.refund(this.states);
  }
}

/**
 * Failed OTP-grant attempts per IP, per identifier + IP and per identifier over RATE_LIMIT_OTP_WINDOW_MS (on top of
 * the per-code cap of the connection's max_attempts). Every attempt is charged up front and refunded on success:
 * counting failures after the fact would let N concurrent guesses all pass the check before any was recorded.
 * From the RATE_LIMIT_OTP_BACKOFF_AFTER-th attempt at an identifier in the window on, attempts also pass one at a
 * time through the identifier's backoff gate, each closing it for an exponentially longer wait (at most
 * RATE_LIMIT_OTP_BACKOFF_MAX_MS): guessing stays under the hourly limit, and someone who knows only a victim's
 * identifier holds them out for minutes after their last guess rather than for the rest of the hour
 * (docs/threat-model.md).
 *
 * Usage (the OTP grant and the legacy /passwordless/verify), after client authentication and body validation:
 *   // may throw 429:
 *   const user = await otpAttempts.attempt({ client, ip, connection: realm, identifier }, () => verify(...));
 */
@Injectable()
export class OtpAttemptLimiter {
  constructor(
    private readonly store: SlidingWindowStore,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  async begin(subject: OtpAttemptSubject): Promise<OtpAttempt> {
    const { otpWindowMs: windowMs, otpFailuresPerIdentifierIp, otpBackoff } = this.config.rateLimit;
    const limits = effectiveLimits(this.config.rateLimit.defaults, subject.client.rateLimits);
    const now = this.clock.now().getTime();
    const ip = ipLimitKey(subject.ip);
    const identifier = identifierKey(`otp-id:${subject.connection}`, subject.identifier);
    const decision = await this.store.consume(
      [
        { name: 'otp-failures-ip', key: `otp-ip:${ip}`, limit: limits.otpFailuresPerIp, windowMs },
        {
          name: 'otp-failures-identifier-ip',
          key: `${identifier}:ip:${ip}`,
          limit: Math.min(otpFailuresPerIdentifierIp, limits.otpFailuresPerIdentifier),
          windowMs,
        },
        { name: 'otp-failures-identifier', key: identifier, limit: limits.otpFailuresPerIdentifier, windowMs },
      ],
      now,
    );
    if (decision.denied) throw tooManyRequests(decision.denied, now);
    if (decision.unavailable) {
      const floor = this.config.rateLimit.postgresFallback.has('otp-failures-identifier')
        ? { limit: limits.otpFailuresPerIdentifier, since: new Date(now - windowMs) }
        : undefined;
      return new OtpAttempt(this.store, [], floor);
    }
    const attempts = decision.states[2].count;
    if (otpBackoff.after === 0 || attempts < otpBackoff.after) return new OtpAttempt(this.store, decision.states);
    const gate = `${identifier}:backoff`;
    const waitMs = Math.min(otpBackoff.baseMs * 2 ** (attempts - otpBackoff.after), otpBackoff.maxMs);
    const closedUntil = await this.store.claimGate(gate, now, now + waitMs);
    const attempt = new OtpAttempt(this.store, decision.states, undefined, closedUntil === null ? gate : undefined);
    if (closedUntil === null) return attempt;
    await attempt.withdraw();
    const headers = rateLimitHeaders({ ...decision.states[2], count: attempts, remaining: 0 }, closedUntil);
    throw pausedUntil(closedUntil, now, headers, 'otp-backoff');
  }

  /**
   * Runs `verify` as one attempt: counted as a failure if it throws, given back if it succeeds. While Redis is
   * unavailable `verify` gets the Postgres floor to settle the attempt under, and a reached floor answers 429.
   */
  async attempt<T>(subject: OtpAttemptSubject, verify: (floor?: FailureFloor) => Promise<T>): Promise<T> {
    const attempt = await this.begin(subject);
    let result: T;
    try {
      result = await verify(attempt.floor);
    } catch (err) {
      if (err instanceof FailureFloorReached) throw this.floorReached(err);
      throw err;
    }
    await attempt.succeeded();
    return result;
  }

  private floorReached(err: FailureFloorReached): ApiError {
    const now = this.clock.now().getTime();
    const state: LimitState = {
      rule: { name: 'otp-failures-identifier', key: '', limit: err.limit, windowMs: this.config.rateLimit.otpWindowMs },
      count: err.limit,
      remaining: 0,
      resetAtMs: err.retryAtMs,
      bucket: 0,
    };
    return tooManyRequests({ state, retryAtMs: err.retryAtMs }, now);
  }
}
