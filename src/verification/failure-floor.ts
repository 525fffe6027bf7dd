/**
 * The per-identifier failure limit as Postgres enforces it while Redis is unavailable (OtpAttemptLimiter): at most
 * `limit` failed attempts at an identifier's codes among the records created after `since`.
 */
export interface FailureFloor {
  limit: number;
  since: Date;
}

/** The identifier reached its failure limit: the attempt was not counted and its outcome is ignored. */
export class FailureFloorReached extends Error {
  constructor(
    readonly limit: number,
    /** Epoch ms when the oldest counted failure leaves the window. */
    readonly retryAtMs: number,
  ) {
    super('failure limit reached');
  }
}
