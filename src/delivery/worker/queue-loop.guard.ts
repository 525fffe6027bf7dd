import type { Logger } from '@nestjs/common';
import type { Worker } from 'bullmq';
import { OutageLog } from '../../common/outage-log';

const FIRST_PAUSE_MS = 500;
const MAX_PAUSE_MS = 5_000;
/** A resumed loop that runs this long without an error is working again (its blocking fetch fails at once if not). */
const QUIET_RECOVERY_MS = 3_000;

/**
 * Keeps a queue consumer from spinning on a Redis that answers every call with an error (CLUSTERDOWN, MOVED, CROSSSLOT,
 * a script error): BullMQ retries such replies at once, so the loop would take a core and emit thousands of errors a
 * second. On an error the consumer is paused (its in-flight jobs go on) and resumed after a pause that doubles while
 * the errors go on; the outage is logged once, and `failure` tells the health check why the queue is not consumed.
 */
export class QueueLoopGuard {
  private readonly outage: OutageLog;
  private pauseMs = FIRST_PAUSE_MS;
  private lastError?: string;
  private resumeTimer?: NodeJS.Timeout;
  private quietTimer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly worker: Worker,
    logger: Logger,
    what: string,
  ) {
    this.outage = new OutageLog(logger, what);
    worker.on('error', (err) => this.failed(err));
    // A job ran: the queue works, whatever the pauses said.
    worker.on('active', () => this.recovered());
  }

  /** Why the queue is not being consumed, while it is failing. */
  get failure(): string | undefined {
    return this.outage.down ? this.lastError : undefined;
  }

  /** Shutdown: no more resumes (Worker.close() stops the loop). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.resumeTimer);
    clearTimeout(this.quietTimer);
  }

  private failed(err: Error): void {
    this.outage.failed(err);
    this.lastError = err.message;
    clearTimeout(this.quietTimer);
    if (this.stopped || this.resumeTimer) return;
    void this.worker.pause(true).catch(() => undefined);
    const pauseMs = this.pauseMs;
    this.pauseMs = Math.min(this.pauseMs * 2, MAX_PAUSE_MS);
    this.resumeTimer = setTimeout(() => {
      this.resumeTimer = undefined;
      if (this.stopped) return;
      void this.worker.resume().catch(() => undefined);
      this.quietTimer = setTimeout(() => this.recovered(), QUIET_RECOVERY_MS);
    }, pauseMs);
  }

  private recovered(): void {
    clearTimeout(this.quietTimer);
    this.pauseMs = FIRST_PAUSE_MS;
    this.outage.recovered();
  }
}
