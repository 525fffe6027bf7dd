import type { RandomSource } from '../common/random.source';

/** Random bits after the timestamp: ids made in the same millisecond stay unique (the primary key still checks). */
const RANDOM_BYTES = 6;

/**
 * A verification record's id in Auth0's `_id` shape (24 lowercase hex digits), time-ordered like a MongoDB ObjectId:
 * the creation time in milliseconds (12 digits) then 48 random bits, so new rows land at the right-hand end of the
 * primary-key index instead of on a random page of it, and a record's age can be read from its id.
 */
export function newRecordId(now: Date, random: RandomSource): string {
  return now.getTime().toString(16).padStart(12, '0') + random.hex(RANDOM_BYTES);
}
