import { Logger } from '@nestjs/common';
import { ConfigError } from '../config/config-error';

/** host:port of a connection URL, never its credentials. */
export function urlHost(url: string): string {
  return URL.canParse(url) ? new URL(url).host : 'an invalid URL';
}

/** A dependency that could not be reached at boot, named by the variable that points at it. */
export class DependencyConnectError extends Error {
  constructor(what: string, variable: string, url: string, cause: unknown) {
    super(`Cannot connect to ${what} at ${urlHost(url)} (${variable}): ${(cause as Error)?.message ?? String(cause)}`);
  }
}

/** What an entry point prints when it cannot start: configuration and connection errors as they are, others prefixed. */
export function startupFailure(role: string, err: unknown): string {
  if (err instanceof ConfigError || err instanceof DependencyConnectError) return err.message;
  return `Failed to start ${role}: ${(err as Error)?.message ?? String(err)}`;
}

/**
 * A stop that waits on a dependency which is down (a Redis command queued for reconnection, a pool that cannot end,
 * a job that never finishes) must not outlive the orchestrator's grace period: after `graceMs` the process exits
 * anyway, freeing its ports, and says so. The timer is unref'd: a stop that completes exits as usual.
 */
export function exitWithinGrace(graceMs: number, role: string): void {
  const arm = (signal: NodeJS.Signals) => {
    setTimeout(() => {
      new Logger(role).error(`Did not stop within ${graceMs} ms of ${signal} (SHUTDOWN_GRACE_MS): exiting now`);
      process.exit(1);
    }, graceMs).unref();
  };
  process.once('SIGTERM', arm);
  process.once('SIGINT', arm);
}
