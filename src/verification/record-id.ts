import type { RandomSource } from '../common/random.source';

/** Random bits after the timestamp: ids made in the same millisecond stay unique (the primary key still checks). */
const RANDOM_BYTES = 6;

/**
 * A verification record's id in Auth0's `_id` shape (24 lowercase hex digits), time-ordered like a MongoDB ObjectId:
 * the creation time in milliseconds (12 digits) then 48 random bits, so new rows land at the right-hand end of the
 * primary-key index instead of on a random page of it, and a record's age can be read from its id.
 */
export function newRecordId(now: Date, random: RandomSource): string {
  return recordIdAt(now) + random.hex(RANDOM_BYTES);
}

/** The lowest id a record made at `at` can have; ids compare as text in time order. */
export function recordIdAt(at: Date): string {
  return at.getTime().toString(16).padStart(12, '0');
}

/**
 * How far back a record can still answer for its code: the longest code lifetime (the connections table's CHECK caps
 * it at a day), so a code is told apart as expired, not unknown, for a day after it was sent.
 */
const LIVE_BEFORE_MS = 86_400_000;
/** How far ahead of this clock another replica's clock may have stamped a record. */
const LIVE_AHEAD_MS = 3_600_000;

/**
 * The ids a live record (possibly expired, not yet superseded or spent) can have at `now`. The table is partitioned
 * by day on the id, so a lookup bounded by them reads today's and yesterday's partitions instead of every day kept.
 * Compare as `id >= $1::bpchar`: the column is char(24), and against text Postgres casts the column and prunes nothing.
 */
export function liveRecordIds(now: Date): { from: string; to: string } {
  const at = now.getTime();
  return { from: recordIdAt(new Date(at - LIVE_BEFORE_MS)), to: recordIdAt(new Date(at + LIVE_AHEAD_MS)) };
}
