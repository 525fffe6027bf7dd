import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import IORedis from 'ioredis';
import { freePort, type RedisProcess, waitFor } from './redis-process';

/** A Redis Sentinel (`redis-server --sentinel`) on a loopback port, monitoring `primary` under `name`. */
export class RedisSentinel {
  private constructor(
    readonly port: number,
    readonly name: string,
    private readonly child: ChildProcess,
    private readonly dir: string,
  ) {}

  static async start(primary: RedisProcess, name = 'pwl-primary'): Promise<RedisSentinel> {
    const port = await freePort();
    // Sentinel rewrites its configuration file, so it gets a directory of its own.
    const dir = mkdtempSync(join(tmpdir(), 'pwl-sentinel-'));
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(
      conf,
      [`port ${port}`, 'bind 127.0.0.1', `dir ${dir}`, `sentinel monitor ${name} 127.0.0.1 ${primary.port} 1`, ''].join(
        '\n',
      ),
    );
    const child = spawn(process.env.REDIS_SERVER_BIN ?? 'redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
    const sentinel = new RedisSentinel(port, name, child, dir);
    await waitFor(async () => {
      const probe = new IORedis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 });
      try {
        await probe.connect();
        const addr = (await probe.call('SENTINEL', 'get-master-addr-by-name', name)) as string[] | null;
        return addr?.[1] === String(primary.port);
      } catch {
        return false;
      } finally {
        probe.disconnect();
      }
    }, 10_000);
    return sentinel;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      await new Promise<void>((resolve) => {
        this.child.once('exit', () => resolve());
        this.child.kill('SIGKILL');
      });
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
