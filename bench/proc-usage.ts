import IORedis from 'ioredis';
import { readdirSync, readFileSync } from 'node:fs';

/** user+sys CPU time of a process in ms, from /proc (Linux; clock ticks are 10 ms); 0 once it is gone. */
export function cpuMs(pid: number): number {
  return statCpuMs(`/proc/${pid}/stat`);
}

/**
 * user+sys CPU time of a process's main thread alone (its event loop, for Node), in ms: the rest of `cpuMs` is its
 * other threads (a worker thread, V8's GC and compiler helpers, libuv's pool).
 */
export function mainThreadCpuMs(pid: number): number {
  return statCpuMs(`/proc/${pid}/task/${pid}/stat`);
}

function statCpuMs(path: string): number {
  try {
    // Fields 14 and 15, after the parenthesised command name; in clock ticks (USER_HZ, 100 on Linux).
    const fields = readFileSync(path, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/** Busy CPU time of the whole machine in ms (all cores, from /proc/stat). */
export function machineBusyMs(): number {
  const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return (user + nice + system + irq + softirq + steal) * 10;
}

/** Read and write system calls of a process (socket I/O included), from /proc/<pid>/io; 0 once it is gone. */
function syscalls(pid: number): number {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    return Number(/syscr: (\d+)/.exec(io)?.[1]) + Number(/syscw: (\d+)/.exec(io)?.[1]);
  } catch {
    return 0;
  }
}

export async function redisServerPid(url: string): Promise<number> {
  const client = new IORedis(url);
  try {
    return Number(/process_id:(\d+)/.exec(await client.info('server'))?.[1]);
  } finally {
    client.disconnect();
  }
}

/** Every process with this command name (Postgres: the server's backends, WAL writer and checkpointer, all of them). */
export function pidsNamed(name: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === name;
      } catch {
        return false;
      }
    })
    .map(Number);
}

type Usage = Map<number, { cpu: number; calls: number }>;
export type UsageSnapshot<K extends string> = Record<K, Usage>;

/** CPU ms and read/write system calls of each pid in each group of processes. */
export function usageOf<K extends string>(groups: Record<K, () => number[]>): UsageSnapshot<K> {
  const sample = (pids: number[]): Usage =>
    new Map(pids.map((pid) => [pid, { cpu: cpuMs(pid), calls: syscalls(pid) }]));
  return Object.fromEntries(
    Object.entries<() => number[]>(groups).map(([k, pids]) => [k, sample(pids())]),
  ) as UsageSnapshot<K>;
}

/** What a group spent between two snapshots (processes that appeared in between count from zero). */
export function spentBetween<K extends string>(
  before: UsageSnapshot<K>,
  after: UsageSnapshot<K>,
  group: K,
  what: 'cpu' | 'calls',
): number {
  return [...after[group]].reduce((sum, [pid, usage]) => sum + usage[what] - (before[group].get(pid)?.[what] ?? 0), 0);
}
