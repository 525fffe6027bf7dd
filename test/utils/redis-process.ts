import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import IORedis from 'ioredis';

/** A private redis-server on a free loopback port, so a test can stop and restart Redis without touching others. */
export class RedisProcess {
  private child?: ChildProcess;

  /**
   * `appendOnlyDir`: persist with AOF (appendfsync everysec) there, so a restart keeps what was written. `args`: more
   * redis-server options (e.g. `--cluster-enabled yes` with `--dir` for its nodes file).
   */
  private constructor(
    readonly port: number,
    private readonly appendOnlyDir?: string,
    private readonly args: string[] = [],
  ) {}

  static async start(options: { appendOnlyDir?: string; args?: string[] } = {}): Promise<RedisProcess> {
    const redis = new RedisProcess(await freePort(), options.appendOnlyDir, options.args);
    await redis.restart();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async restart(): Promise<void> {
    const binary = process.env.REDIS_SERVER_BIN ?? 'redis-server';
    this.child = spawn(
      binary,
      [
        ...['--port', String(this.port), '--bind', '127.0.0.1', '--save', ''],
        ...(this.appendOnlyDir
          ? ['--appendonly', 'yes', '--appendfsync', 'everysec', '--dir', this.appendOnlyDir]
          : ['--appendonly', 'no']),
        ...this.args,
      ],
      { stdio: 'ignore' },
    );
    await waitFor(async () => {
      const probe = new IORedis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false });
      try {
        await probe.connect();
        return (await probe.ping()) === 'PONG';
      } catch {
        return false;
      } finally {
        probe.disconnect();
      }
    }, 5000);
  }

  /** Restarts the server if a test stopped it (and failed before restarting it), so later tests find Redis up. */
  async ensureRunning(): Promise<void> {
    if (!this.running) await this.restart();
  }

  private get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}
