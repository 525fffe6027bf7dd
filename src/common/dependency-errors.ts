/** SQLSTATEs of a database that is unreachable, restarting or overloaded, or of a statement that hit its timeout. */
const UNAVAILABLE_SQLSTATE = /^(08...|57P0[1-4]|57014|53300|55P03)$/;
/** Node and pg messages of a connection lost, refused or timed out (they carry no SQLSTATE). */
const UNAVAILABLE_MESSAGE =
  /Connection terminated|terminating connection|not queryable|timeout exceeded when trying to connect|Query read timeout|Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|the database system is (starting up|shutting down|in recovery mode)|statement timeout/i;

/**
 * Whether an error means a dependency (Postgres, Redis) is unavailable for now rather than that the request is wrong
 * or the code is broken: such a failure answers 503 with Retry-After (RFC 9110 §15.6.4), not 500. Looks through
 * TypeORM's QueryFailedError to pg's error (`driverError`).
 */
export function isDependencyUnavailable(err: unknown): boolean {
  for (
    let e = err as { code?: unknown; message?: unknown; driverError?: unknown } | undefined, depth = 0;
    e && depth < 3;
    depth++
  ) {
    if (typeof e.code === 'string' && (UNAVAILABLE_SQLSTATE.test(e.code) || UNAVAILABLE_MESSAGE.test(e.code)))
      return true;
    if (typeof e.message === 'string' && UNAVAILABLE_MESSAGE.test(e.message)) return true;
    e = e.driverError as typeof e;
  }
  return false;
}
