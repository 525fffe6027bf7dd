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
 * The ids a record still redeemable at `now` can have, for a connection whose codes live `lifetimeSeconds`: made at
 * most one lifetime ago (and, for clocks apart, at most one ahead). The table is partitioned by day on the id, so a
 * lookup bounded by it reads today's partition (and the day before, just after midnight UTC) instead of every day
 * kept. A record made under a longer lifetime than the connection's current one is not found past the current one.
 * Compare as `id >= $1::bpchar`: the column is char(24), and against text Postgres casts the column and prunes nothing.
 */
export function liveRecordIds(now: Date, lifetimeSeconds: number): { from: string; to: string } {
  const at = now.getTime();
  const span = lifetimeSeconds * 1000;
  return { from: recordIdAt(new Date(at - span)), to: recordIdAt(new Date(at + span)) };
}
