import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import IORedis from 'ioredis';
import { freePort, RedisProcess, waitFor } from '../utils/redis-process';
import { createClient, uniqueEmail } from '../utils/factories';
import { credentials } from '../utils/passwordless-flow';
import { startTestApp } from '../utils/test-app';
import { filePrefix } from '../utils/test-worker';
import { spawnRole, type WorkerChild } from '../utils/worker-process';

/** Linux reports a process's CPU in clock ticks of 1/100 s (utime and stime, fields 14 and 15 of /proc/<pid>/stat). */
const cpuSeconds = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
};

/**
 * A worker (and the API) whose Redis answers but refuses its commands (a cluster node that serves no slot, a user
 * without the permissions): it says so on /health within seconds, waits without spinning, logs the outage once, and
 * goes back to work when Redis does.
 */
describe('Worker and API on a Redis that refuses their commands', () => {
  const children: WorkerChild[] = [];
  const servers: RedisProcess[] = [];
  const dirs: string[] = [];

  afterAll(async () => {
    for (const c of children) if (c.running()) c.child.kill('SIGKILL');
    await Promise.all(children.map((c) => c.exited));
    await Promise.all(servers.map((s) => s.stop()));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  type Health = () => Promise<{ status: number; body: Record<string, unknown> }>;

  /** A Redis with cluster mode on that serves no slot: it answers PING, and CLUSTERDOWN to every keyed command. */
  async function slotlessClusterNode(): Promise<RedisProcess> {
    const dir = mkdtempSync(join(tmpdir(), 'pwl-cluster-node-'));
    dirs.push(dir);
    const node = await RedisProcess.start({ args: ['--cluster-enabled', 'yes', '--dir', dir] });
    servers.push(node);
    return node;
  }

  /** One of the service's roles on `redis`, once its health endpoint (`portVariable`) answers at all. */
  async function roleOn(entry: string, redis: RedisProcess, portVariable: string, env: Record<string, string> = {}) {
    const port = await freePort();
    const role = spawnRole(entry, {
      REDIS_URL: redis.url,
      REDIS_PREFIX: filePrefix(`broken-${entry.replace('.ts', '')}`),
      MIGRATIONS_RUN: 'false',
      [portVariable]: String(port),
      ...env,
    });
    children.push(role);
    const health: Health = async () => {
      const res = await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined);
      return { status: res?.status ?? 0, body: ((await res?.json()) ?? {}) as Record<string, unknown> };
    };
    await waitFor(async () => (await health()).status !== 0, 20_000, 100).catch(() => {
      throw new Error(`no health answer within 20 s:\n${role.output()}`);
    });
    return { role, health };
  }

  const workerOn = async (redis: RedisProcess) => {
    const { role, health } = await roleOn('worker.ts', redis, 'WORKER_HEALTH_PORT', {
      WORKER_QUEUES: 'email',
      EMAIL_PROVIDER: 'log',
      LOG_LEVEL: 'log',
    });
    return { worker: role, health };
  };

  async function expectUnhealthyAndIdle(worker: WorkerChild, health: Health, reason: RegExp) {
    const seen = Date.now();
    const failing = async () => {
      const { status, body } = await health();
      return status === 503 && reason.test(String((body.failing_queues as Record<string, string>)?.email));
    };
    await waitFor(failing, 10_000, 100).catch(() => {
      throw new Error(`no 503 naming the queue's error within 10 s:\n${worker.output()}`);
    });
    expect(Date.now() - seen).toBeLessThan(10_000);

    const before = cpuSeconds(worker.child.pid!);
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    expect((cpuSeconds(worker.child.pid!) - before) / 5).toBeLessThan(0.05);
    expect(worker.output().match(/Queue email \(Redis\) unavailable/g)).toHaveLength(1);
  }

  it('should report 503 with the reason within 10 s, and use under 5 % CPU, on a cluster node that serves no slot', async () => {
    const { worker, health } = await workerOn(await slotlessClusterNode());
    await expectUnhealthyAndIdle(worker, health, /CLUSTERDOWN/);
  });

  it("should answer the API's /health with 503, not 200 on a PING, on a cluster node that serves no slot", async () => {
    const { health } = await roleOn('main.ts', await slotlessClusterNode(), 'PORT');
    expect((await health()).status).toBe(503);
  });

  it("should answer the relay's /health with 503, and not spin, when its backlog cannot be queued", async () => {
    // A start left in the outbox by an API without a relay, on the normal Redis.
    const t = await startTestApp({ relay: false });
    try {
      const client = await createClient(t.dataSource);
      const started = await t.post('/passwordless/start', {
        ...credentials(client),
        connection: 'email',
        email: uniqueEmail(),
        send: 'code',
      });
      expect(started.status).toBe(200);
    } finally {
      await t.close();
    }
    const { role: relay, health } = await roleOn('relay.ts', await slotlessClusterNode(), 'RELAY_HEALTH_PORT');
    await waitFor(async () => (await health()).status === 503, 20_000, 100).catch(() => {
      throw new Error(`no 503 within 20 s:\n${relay.output()}`);
    });
    const before = cpuSeconds(relay.child.pid!);
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    expect((cpuSeconds(relay.child.pid!) - before) / 5).toBeLessThan(0.05);
    expect((await health()).status).toBe(503);
  });

  it('should go back to work once Redis accepts its commands again', async () => {
    const redis = await RedisProcess.start();
    servers.push(redis);
    const { worker, health } = await workerOn(redis);
    await waitFor(async () => (await health()).status === 200, 20_000, 100);

    const setup = new IORedis(redis.url);
    await setup.call('ACL', 'SETUSER', 'admin', 'on', '>admin', '~*', '&*', '+@all');
    setup.disconnect();
    const admin = new IORedis(redis.url, { username: 'admin', password: 'admin' });
    try {
      // The default user keeps only PING and its connection's commands: the worker's queue commands now get NOPERM.
      await admin.call(
        'ACL',
        'SETUSER',
        'default',
        'on',
        'nopass',
        '~*',
        '&*',
        '-@all',
        '+ping',
        '+info',
        '+client',
        '+hello',
        '+select',
      );
      await expectUnhealthyAndIdle(worker, health, /NOPERM/);
      await admin.call('ACL', 'SETUSER', 'default', '+@all');
    } finally {
      admin.disconnect();
    }
    await waitFor(async () => (await health()).status === 200, 15_000, 100).catch(() => {
      throw new Error(`not healthy again within 15 s:\n${worker.output()}`);
    });
    expect(worker.output()).toMatch(/Queue email \(Redis\) available again after/);
  });
});
