import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { letResourceLimitsSizeWorkers } from '../common/worker-heap-limits';
import { AppConfig } from '../config/app-config';

export enum RelayThreadMessage {
  Ready = 'ready',
  Wake = 'wake',
  Stop = 'stop',
}

export interface RelayThreadData {
  config: AppConfig;
  /** 1 from a posted wake-up until the relay's next pass begins: starts in between need not post another. */
  wakeFlag: Int32Array;
}

/** The compiled entry point of the relay thread (tests, which run TypeScript, provide a compiled copy). */
export const OUTBOX_RELAY_THREAD_SCRIPT = Symbol('OUTBOX_RELAY_THREAD_SCRIPT');
export const DEFAULT_OUTBOX_RELAY_THREAD_SCRIPT = join(__dirname, 'outbox-relay.thread.js');

const BOOT_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
const RESTART_DELAY_MS = 1_000;
/**
 * The thread's own V8 heap: its code and libraries (~30 MB live) and batches of at most 200 rows. 2 MB semi-spaces: the
 * thread's heap went from 60 to 42–47 MB under load with no change in CPU per start (docs/benchmarks.md). A 96 MB old
 * generation let its old space grow to 41 MB (34 with 64) and the API's RSS to 197 MB, so 64, twice the live heap, stays.
 */
const THREAD_RESOURCE_LIMITS = { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 6 };

/**
 * Runs the outbox relay (OutboxRelay) in a worker thread of the API process and wakes it after each start. Moving rows
 * to the queues (a claiming transaction and BullMQ's per-job work) was a quarter of the API's CPU per start on its one
 * event loop; in the thread it runs on another core (docs/benchmarks.md). The API starts only once the thread is up;
 * a thread that dies is restarted, and its rows wait in the outbox meanwhile.
 */
@Injectable()
export class OutboxRelayHost implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OutboxRelayHost.name);
  private readonly wakeFlag = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
  private thread?: Worker;
  /** A thread started but not yet ready (at boot, or being restarted). */
  private booting?: Worker;
  private stopping = false;

  constructor(
    private readonly config: AppConfig,
    @Inject(OUTBOX_RELAY_THREAD_SCRIPT) private readonly script: string,
  ) {}

  onApplicationBootstrap(): Promise<void> {
    return this.startThread();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    // One still booting has no relay running yet: it can simply go.
    await this.booting?.terminate();
    const thread = this.thread;
    if (!thread) return;
    const exited = new Promise((resolve) => thread.once('exit', resolve));
    thread.postMessage(RelayThreadMessage.Stop);
    const timer = setTimeout(() => void thread.terminate(), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }

  /** Called after a start commits. Never throws and never waits: the caller's 200 does not depend on the relay. */
  wake(): void {
    if (this.thread && Atomics.exchange(this.wakeFlag, 0, 1) === 0) this.thread.postMessage(RelayThreadMessage.Wake);
  }

  private startThread(): Promise<void> {
    const data: RelayThreadData = { config: this.config, wakeFlag: this.wakeFlag };
    letResourceLimitsSizeWorkers();
    const thread = new Worker(this.script, { workerData: data, resourceLimits: THREAD_RESOURCE_LIMITS });
    this.booting = thread;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => void thread.terminate(), BOOT_TIMEOUT_MS);
      let ready = false;
      thread.on('message', (message: RelayThreadMessage) => {
        if (message !== RelayThreadMessage.Ready) return;
        ready = true;
        clearTimeout(timer);
        this.booting = undefined;
        if (this.stopping) return void thread.terminate().then(() => resolve());
        this.thread = thread;
        // Whatever was committed while no thread was listening is in the outbox: take it now.
        Atomics.store(this.wakeFlag, 0, 0);
        this.wake();
        resolve();
      });
      thread.on('error', (err) => this.logger.error(`Outbox relay thread error: ${err.message}`));
      thread.once('exit', (code) => {
        clearTimeout(timer);
        if (this.thread === thread) this.thread = undefined;
        if (this.booting === thread) this.booting = undefined;
        if (!ready) return reject(new Error(`outbox relay thread exited with code ${code} before it was ready`));
        if (this.stopping) return;
        this.logger.error(`Outbox relay thread exited with code ${code}; restarting in ${RESTART_DELAY_MS} ms`);
        this.restartLater();
      });
    });
  }

  private restartLater(): void {
    setTimeout(() => {
      if (this.stopping) return;
      this.startThread().catch((err: Error) => {
        this.logger.error(`Outbox relay thread restart failed, retrying in ${RESTART_DELAY_MS} ms: ${err.message}`);
        this.restartLater();
      });
    }, RESTART_DELAY_MS).unref();
  }
}
