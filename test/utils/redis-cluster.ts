import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import IORedis from 'ioredis';
import { freePort, RedisProcess, waitFor } from './redis-process';

const run = promisify(execFile);

/**
 * A real Redis Cluster of `masters` primaries on loopback (no replicas): `redis-server --cluster-enabled yes` per node,
 * joined by `redis-cli --cluster create`, each with its own directory for its nodes file.
 */
export class RedisCluster {
  private constructor(
    readonly nodes: RedisProcess[],
    private readonly dirs: string[],
  ) {}

  static async start(masters = 3): Promise<RedisCluster> {
    const nodes: RedisProcess[] = [];
    const dirs: string[] = [];
    for (let i = 0; i < masters; i++) {
      const dir = mkdtempSync(join(tmpdir(), 'pwl-cluster-'));
      dirs.push(dir);
      // The bus port defaults to port + 10000, which an ephemeral port can push past 65535.
      const busPort = await freePort();
      nodes.push(
        await RedisProcess.start({
          args: ['--cluster-enabled', 'yes', '--cluster-port', String(busPort), '--dir', dir],
        }),
      );
    }
    const cluster = new RedisCluster(nodes, dirs);
    const cli = process.env.REDIS_CLI_BIN ?? 'redis-cli';
    await run(cli, ['--cluster', 'create', ...cluster.seeds, '--cluster-replicas', '0', '--cluster-yes']);
    await waitFor(
      async () => (await Promise.all(nodes.map((node) => clusterState(node.url)))).every((s) => s === 'ok'),
      15_000,
      100,
    );
    return cluster;
  }

  /** `host:port` of every node, as REDIS_CLUSTER_NODES takes them. */
  get seeds(): string[] {
    return this.nodes.map((node) => `127.0.0.1:${node.port}`);
  }

  /** The node serving `slot`. */
  async nodeFor(slot: number): Promise<RedisProcess> {
    const probe = new IORedis(this.nodes[0].url);
    try {
      const ranges = (await probe.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number]]>;
      const [, , [, port]] = ranges.find(([from, to]) => slot >= from && slot <= to)!;
      return this.nodes.find((node) => node.port === port)!;
    } finally {
      probe.disconnect();
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.stop()));
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
  }
}

async function clusterState(url: string): Promise<string | undefined> {
  const probe = new IORedis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await probe.connect();
    const info = (await probe.call('CLUSTER', 'INFO')) as string;
    return /cluster_state:(\w+)/.exec(info)?.[1];
  } catch {
    return undefined;
  } finally {
    probe.disconnect();
  }
}
