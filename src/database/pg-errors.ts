/**
 * Whether a failed statement failed because of its data (SQLSTATE class 22 data exception, class 23 integrity
 * violation) or of its timing against other transactions (40001 serialization failure, 40P01 deadlock detected), so
 * that the items of a failed batch may succeed when retried one by one. Connection and server errors do not qualify:
 * replaying item by item would only multiply the load on a database that is already failing.
 * Works for pg's DatabaseError and TypeORM's QueryFailedError, which both carry the SQLSTATE as `code`.
 */
export function isItemSpecificDbError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return (
    typeof code === 'string' && (code.startsWith('22') || code.startsWith('23') || code === '40001' || code === '40P01')
  );
}

/**
 * Whether a statement gave up waiting rather than failed: 55P03 lock_not_available (its lock_timeout) or 57014
 * query_canceled (its statement_timeout). Work that may run later (a maintenance pass) can be left for then.
 */
export function isTimedOutDbError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '55P03' || code === '57014';
}
