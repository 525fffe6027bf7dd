import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort, waitFor } from './redis-process';

/** The newest installed PostgreSQL server binaries (Debian keeps them out of PATH). */
function binDir(): string {
  if (process.env.PG_BIN_DIR) return process.env.PG_BIN_DIR;
  const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
  return join('/usr/lib/postgresql', versions[0], 'bin');
}

/**
 * A private PostgreSQL cluster (initdb + pg_ctl) on a free loopback port, so a test can stop, crash or pause the
 * database without touching the shared one. As root, the server runs as the `postgres` user (it refuses root).
 */
export class PostgresProcess {
  private constructor(
    readonly port: number,
    private readonly dataDir: string,
  ) {}

  static async start(): Promise<PostgresProcess> {
    const dir = mkdtempSync(join(tmpdir(), 'pwl-pg-'));
    chmodSync(dir, 0o777);
    const pg = new PostgresProcess(await freePort(), join(dir, 'data'));
    pg.run('initdb', ['-D', pg.dataDir, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
    await pg.restart();
    return pg;
  }

  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /** Starts the server (again, on the same data: committed data survives). */
  async restart(): Promise<void> {
    const options = `-p ${this.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off -c max_connections=200`;
    this.run('pg_ctl', ['-D', this.dataDir, '-o', options, '-l', join(this.dataDir, '..', 'log'), '-w', 'start']);
    await waitFor(async () => {
      const client = new Client({ connectionString: this.url() });
      client.on('error', () => undefined);
      try {
        await client.connect();
        return true;
      } catch {
        return false;
      } finally {
        await client.end().catch(() => undefined);
      }
    }, 15_000);
  }

  /** `pg_ctl stop -m immediate`: every connection drops at once, as in a crash or a failover. */
  stopImmediately(): void {
    this.run('pg_ctl', ['-D', this.dataDir, '-m', 'immediate', '-w', 'stop']);
  }

  /** Freezes (SIGSTOP) or thaws (SIGCONT) the server and all its backends: connections stay open, nothing answers. */
  pause(paused: boolean): void {
    const postmaster = Number(readFileSync(join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const children = spawnSync('pgrep', ['-P', String(postmaster)], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter(Boolean)
      .map(Number);
    for (const pid of [postmaster, ...children]) process.kill(pid, paused ? 'SIGSTOP' : 'SIGCONT');
  }

  destroy(): void {
    try {
      this.pause(false);
    } catch {
      // not running
    }
    spawnSync(...this.command('pg_ctl', ['-D', this.dataDir, '-m', 'immediate', 'stop']), { stdio: 'ignore' });
    rmSync(join(this.dataDir, '..'), { recursive: true, force: true });
  }

  private run(binary: string, args: string[]): void {
    execFileSync(...this.command(binary, args), { stdio: 'ignore' });
  }

  private command(binary: string, args: string[]): [string, string[]] {
    const path = join(binDir(), binary);
    return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', path, ...args]] : [path, args];
  }
}
