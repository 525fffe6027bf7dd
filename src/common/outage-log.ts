import type { Logger } from '@nestjs/common';

/**
 * Logs a dependency outage once when it starts and once when it ends (with its duration and how many failures it
 * absorbed), instead of once per failed call or retry.
 */
export class OutageLog {
  private since?: number;
  private failures = 0;
  private quietTimer?: NodeJS.Timeout;

  /**
   * `quietRecoveryMs`: for failures seen only on requests (no probe tells when it is back), the outage counts as over
   * once that long passed without a failure.
   */
  constructor(
    private readonly logger: Logger,
    private readonly what: string,
    private readonly quietRecoveryMs?: number,
  ) {}

  get down(): boolean {
    return this.since !== undefined;
  }

  /** Since when (ms epoch) the dependency has been failing, if it is. */
  get downSince(): number | undefined {
    return this.since;
  }

  failed(err: unknown): void {
    this.failures++;
    if (this.quietRecoveryMs !== undefined) {
      clearTimeout(this.quietTimer);
      this.quietTimer = setTimeout(() => this.recovered(), this.quietRecoveryMs);
      this.quietTimer.unref();
    }
    if (this.since !== undefined) return;
    this.since = Date.now();
    this.logger.warn(`${this.what} unavailable: ${(err as Error)?.message ?? String(err)}`);
  }

  recovered(): void {
    if (this.since === undefined) return;
    const seconds = ((Date.now() - this.since) / 1000).toFixed(1);
    this.logger.log(`${this.what} available again after ${seconds} s (failures: ${this.failures})`);
    this.since = undefined;
    this.failures = 0;
  }
}
