import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;
const RSS_SAMPLE_MS = 200;
const LOG_TAIL_LINES = 40;

/** The service runs with the V8 heap flags it is deployed with (package.json `start`, Dockerfile, docker-compose). */
export const SERVICE_NODE_FLAGS = '--max-semi-space-size=8 --max-old-space-size=128 --heap-growing-percent=100';

export interface ServerOptions {
  name: string;
  /** Compiled entry point, relative to dist-bench/. */
  script: string;
  /** The dist-bench/ to run it from (another build's, for `bench:compare`); default this build's. */
  distRoot?: string;
  env: Record<string, string>;
  /** Directory for a V8 CPU profile of this server (`node --cpu-prof`), written when it is stopped. */
  cpuProfileDir?: string;
  /** Extra Node flags (e.g. V8 heap sizes), split on spaces. */
  nodeOptions?: string;
  /** Environment for the server only, not its companion (e.g. a METRICS_PORT only one process can bind). */
  serverEnv?: Record<string, string>;
  /**
   * Also start this entry point (relative to the dist root) beside the server, with the same environment, when that
   * build has it: the service's outbox relay runs in a process of its own. Its CPU counts as the server's.
   */
  companionScript?: string;
  /** Environment for the companion only (its own METRICS_PORT). */
  companionEnv?: Record<string, string>;
}

/** A server under test in its own Node process on a free loopback port; RSS is read from /proc. */
export class ServerProcess {
  private readonly logTail: string[] = [];
  private exited = false;
  private companion?: ChildProcess;

  private constructor(
    readonly name: string,
    readonly port: number,
    private readonly child: ChildProcess,
    private readonly profiling: boolean,
  ) {
    const keep = (chunk: Buffer) => {
      this.logTail.push(...chunk.toString().split('\n').filter(Boolean));
      this.logTail.splice(0, Math.max(0, this.logTail.length - LOG_TAIL_LINES));
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.once('exit', () => (this.exited = true));
  }

  static async start(options: ServerOptions): Promise<ServerProcess> {
    const port = await freePort();
    const distRoot = options.distRoot ?? join(__dirname, '..');
    const nodeArgs = options.nodeOptions?.split(' ').filter(Boolean) ?? [];
    if (options.cpuProfileDir)
      nodeArgs.push(
        '--cpu-prof',
        `--cpu-prof-dir=${options.cpuProfileDir}`,
        '--require',
        join(distRoot, 'bench', 'exit-on-sigusr2.js'),
      );
    const child = spawn(process.execPath, [...nodeArgs, join(distRoot, options.script)], {
      env: {
        ...options.env,
        ...options.serverEnv,
        PATH: process.env.PATH ?? '',
        PORT: String(port),
        ISSUER_BASE_URL: `http://127.0.0.1:${port}/`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const server = new ServerProcess(options.name, port, child, Boolean(options.cpuProfileDir));
    await server.waitUntilListening();
    const companion = options.companionScript && join(distRoot, options.companionScript);
    if (companion && existsSync(companion))
      await server.startCompanion(companion, { ...options.env, ...options.companionEnv });
    return server;
  }

  private async startCompanion(script: string, env: Record<string, string>): Promise<void> {
    const port = await freePort();
    this.companion = spawn(process.execPath, [script], {
      env: { ...env, PATH: process.env.PATH ?? '', RELAY_HEALTH_PORT: String(port), MIGRATIONS_RUN: 'false' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if ((await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined))?.ok) return;
      await sleep(100);
    }
    throw new Error(`${script} did not become healthy within ${READY_TIMEOUT_MS} ms`);
  }

  /** The server's process and its companion's, for CPU accounting. */
  get pids(): number[] {
    return [this.child.pid!, ...(this.companion?.pid ? [this.companion.pid] : [])];
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  rssBytes(): number {
    const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
    return kb === undefined ? 0 : Number(kb) * 1024;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Samples RSS until the returned function is called; that function returns the peak. */
  sampleRss(): () => number {
    let peak = this.rssBytes();
    const timer = setInterval(() => (peak = Math.max(peak, this.rssBytes())), RSS_SAMPLE_MS);
    return () => {
      clearInterval(timer);
      return Math.max(peak, this.rssBytes());
    };
  }

  async stop(): Promise<void> {
    this.companion?.kill('SIGTERM');
    if (this.exited) return;
    const exit = new Promise((resolve) => this.child.once('exit', resolve));
    // SIGUSR2 makes a profiled server exit normally, so that V8 writes the profile.
    this.child.kill(this.profiling ? 'SIGUSR2' : 'SIGTERM');
    const stopped = await Promise.race([exit.then(() => true), sleep(STOP_TIMEOUT_MS).then(() => false)]);
    if (!stopped) this.child.kill('SIGKILL');
  }

  private async waitUntilListening(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (this.exited) throw new Error(`${this.name} exited during start-up:\n${this.logTail.join('\n')}`);
      try {
        await fetch(`${this.baseUrl}/health`);
        return; // any HTTP answer means it is listening
      } catch {
        await sleep(100);
      }
    }
    await this.stop();
    throw new Error(`${this.name} did not listen within ${READY_TIMEOUT_MS} ms:\n${this.logTail.join('\n')}`);
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
