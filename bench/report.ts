import { LOGIN_PARTS, type LoginMeasurement, type LoginPart } from './login';
import type { LoadResult } from './load';
import type { Scenario } from './scenarios';

export interface Measurement extends LoadResult {
  rssPeakBytes: number;
  /** Server CPU (user + system) per completed request. */
  cpuMsPerRequest: number;
  /** CPU per completed request elsewhere: Postgres (all its processes), Redis, the load generator, the whole machine. */
  cpuSplit: CpuSplit;
  /** Read and write system calls (socket I/O included) per completed request, per process group. */
  syscalls: SyscallSplit;
}

export interface SyscallSplit {
  server: number;
  postgres: number;
  redis: number;
  load: number;
}

export interface CpuSplit {
  /** The server's main thread (its event loop); the rest of the server's CPU is its other threads. */
  serverMainThread: number;
  postgres: number;
  redis: number;
  load: number;
  machine: number;
  /** Both cores' time nobody used, per request: waiting (for a commit, a wake-up) rather than working. */
  idle: number;
}

export interface Summary {
  scenario: Scenario;
  rounds: Measurement[];
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Summed over all rounds. */
  errors: number;
  rssPeakMb: number;
  cpuMsPerRequest: number;
  cpuSplit: CpuSplit;
  syscalls: SyscallSplit;
}

/** Targets relative to each floor: the start's (issue 6) and the OTP exchange's (issue 29). */
export const TARGETS: Record<string, { minThroughputRatio: number; maxP99Ratio: number; maxRssMb: number }> = {
  floor: { minThroughputRatio: 0.8, maxP99Ratio: 2, maxRssMb: 200 },
  'floor-token': { minThroughputRatio: 0.8, maxP99Ratio: 1.5, maxRssMb: 200 },
};

const MB = 1024 * 1024;

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export function summarise(scenario: Scenario, rounds: Measurement[]): Summary {
  return {
    scenario,
    rounds,
    requestsPerSecond: median(rounds.map((r) => r.requestsPerSecond)),
    p50Ms: median(rounds.map((r) => r.p50Ms)),
    p99Ms: median(rounds.map((r) => r.p99Ms)),
    errors: rounds.reduce((sum, r) => sum + r.errors, 0),
    rssPeakMb: median(rounds.map((r) => r.rssPeakBytes / MB)),
    cpuMsPerRequest: median(rounds.map((r) => r.cpuMsPerRequest)),
    cpuSplit: medians(rounds.map((r) => r.cpuSplit)),
    syscalls: medians(rounds.map((r) => r.syscalls)),
  };
}

/** The median of each field over the rounds. */
function medians<T extends object>(rounds: T[]): T {
  const keys = Object.keys(rounds[0]) as Array<keyof T>;
  return Object.fromEntries(keys.map((key) => [key, median(rounds.map((r) => r[key] as number))])) as T;
}

/** A Markdown table, pasteable into docs/benchmarks.md. */
function markdownTable(header: string[], rows: string[][]): string {
  return [header, header.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

const fixed = (value: number, digits: number) => value.toFixed(digits);

/** The endpoint a scenario loads (a floor variant differs from the plain floor by its query string only). */
const endpoint = (s: Summary) => s.scenario.path.split('?')[0];

/** A Markdown table (pasteable into docs/benchmarks.md) of medians, with ratios against the floor. */
export function table(summaries: Summary[]): string {
  const floor = summaries.find((s) => s.scenario.server === 'floor');
  const rows = summaries.map((s) => {
    const comparable = floor && endpoint(floor) === endpoint(s);
    return [
      s.scenario.label,
      fixed(s.requestsPerSecond, 0),
      fixed(s.p50Ms, 1),
      fixed(s.p99Ms, 1),
      String(s.errors),
      fixed(s.rssPeakMb, 0),
      fixed(s.cpuMsPerRequest, 2),
      comparable ? fixed(s.requestsPerSecond / floor.requestsPerSecond, 2) : 'n/a',
      comparable ? fixed(s.p99Ms / floor.p99Ms, 2) : 'n/a',
    ];
  });
  const header = [
    'scenario',
    'req/s',
    'p50 ms',
    'p99 ms',
    'errors',
    'peak RSS MB',
    'server CPU ms/req',
    'req/s ÷ floor',
    'p99 ÷ floor',
  ];
  return markdownTable(header, rows);
}

/**
 * Where a request's CPU goes on the 2-core machine: the whole of it, not just the server, is what saturates. The
 * server's main thread is split from its other threads (the outbox relay's worker thread, V8's GC and compiler
 * helpers), and the cores' idle time is shown too: a server that leaves cores idle at saturation is waiting, not working.
 */
export function cpuSplitTable(summaries: Summary[]): string {
  const header = [
    'scenario',
    'server',
    'server main thread',
    'postgres',
    'redis',
    'load generator',
    'whole machine',
    'idle',
  ];
  const rows = summaries.map((s) => {
    const { serverMainThread, postgres, redis, load, machine, idle } = s.cpuSplit;
    return [
      s.scenario.label,
      ...[s.cpuMsPerRequest, serverMainThread, postgres, redis, load, machine, idle].map((ms) => fixed(ms, 2)),
    ];
  });
  return markdownTable(header, rows);
}

/**
 * System calls per request: on loopback a socket write also runs the receiver's network stack and wakes it, so the
 * number of writes (not only the bytes) is a cost the CPU table spreads over every process.
 */
export function syscallTable(summaries: Summary[]): string {
  const header = ['scenario', 'server', 'postgres', 'redis', 'load generator'];
  const rows = summaries.map((s) => [
    s.scenario.label,
    ...[s.syscalls.server, s.syscalls.postgres, s.syscalls.redis, s.syscalls.load].map((n) => fixed(n, 1)),
  ]);
  return markdownTable(header, rows);
}

/** One line per round, so the spread behind each median is visible. */
export function roundsDetail(summaries: Summary[]): string {
  return summaries
    .map((s) => {
      const rounds = s.rounds
        .map(
          (r) =>
            `${fixed(r.requestsPerSecond, 0)} req/s, p99 ${fixed(r.p99Ms, 1)} ms, ${fixed(r.cpuMsPerRequest, 2)} CPU ms/req, ${fixed(r.rssPeakBytes / MB, 0)} MB`,
        )
        .join('; ');
      return `${s.scenario.label}: ${rounds}`;
    })
    .join('\n');
}

/** PASS/FAIL per target for the targeted scenarios; empty when there is no floor to compare with. */
export function targetVerdicts(summaries: Summary[]): string[] {
  return summaries
    .filter((s) => s.scenario.targeted)
    .flatMap((s) => {
      const floor = summaries.find((other) => other.scenario.key === (s.scenario.floor ?? 'floor'));
      if (!floor) return [];
      const targets = TARGETS[s.scenario.floor ?? 'floor'] ?? TARGETS.floor;
      const throughput = s.requestsPerSecond / floor.requestsPerSecond;
      const p99 = s.p99Ms / floor.p99Ms;
      return [
        verdict(
          s,
          `throughput ${fixed(throughput, 2)}× ${floor.scenario.key} (≥ ${targets.minThroughputRatio})`,
          throughput >= targets.minThroughputRatio,
        ),
        verdict(
          s,
          `p99 ${fixed(p99, 2)}× ${floor.scenario.key} (≤ ${targets.maxP99Ratio})`,
          p99 <= targets.maxP99Ratio,
        ),
        verdict(s, `${s.errors} errors (0)`, s.errors === 0),
        verdict(s, `peak RSS ${fixed(s.rssPeakMb, 0)} MB (< ${targets.maxRssMb})`, s.rssPeakMb < targets.maxRssMb),
      ];
    });
}

/**
 * Context, not a target: a scenario against the floors that do more of its work than the plain floor (the same client
 * authentication, the same delivery promise), so the table's ratios can be told apart from the stack's own cost.
 */
export function sameWorkRatios(summaries: Summary[]): string[] {
  return summaries.flatMap((s) =>
    (s.scenario.sameWorkFloors ?? []).flatMap((key) => {
      const floor = summaries.find((other) => other.scenario.key === key);
      if (!floor) return [];
      return [
        `${s.scenario.label} ÷ ${floor.scenario.label}: req/s ${fixed(s.requestsPerSecond / floor.requestsPerSecond, 2)}×, p99 ${fixed(s.p99Ms / floor.p99Ms, 2)}×`,
      ];
    }),
  );
}

const verdict = (s: Summary, what: string, ok: boolean) => `${ok ? 'PASS' : 'FAIL'}  ${s.scenario.label}: ${what}`;

/** The floors a login is judged against: it is one start plus one exchange. */
export const LOGIN_FLOORS = ['floor', 'floor-token'];
/** Issue 29's target: completed logins/s against the lower of the two floors' req/s in the same run. */
const MIN_LOGIN_RATIO = 0.8;

function loginFloor(summaries: Summary[]): Summary | undefined {
  const floors = summaries.filter((s) => LOGIN_FLOORS.includes(s.scenario.key));
  return floors.length === LOGIN_FLOORS.length
    ? floors.reduce((low, s) => (s.requestsPerSecond < low.requestsPerSecond ? s : low))
    : undefined;
}

/** Medians of the login rounds: throughput, latency from start to tokens, and CPU per login per process. */
export function loginReport(logins: LoginMeasurement[], summaries: Summary[]): string {
  const m = (pick: (l: LoginMeasurement) => number) => median(logins.map(pick));
  const cpu = Object.fromEntries(LOGIN_PARTS.map((part) => [part, m((l) => l.cpuMsPerLogin[part])])) as Record<
    LoginPart,
    number
  >;
  const total = LOGIN_PARTS.reduce((sum, part) => sum + cpu[part], 0);
  const floor = loginFloor(summaries);
  const lines = [
    'Complete logins (start → worker → SMTP sink → code → OTP exchange), medians:',
    `${fixed(
      m((l) => l.loginsPerSecond),
      0,
    )} logins/s, start to tokens p50 ${fixed(
      m((l) => l.p50Ms),
      1,
    )} ms, p99 ${fixed(
      m((l) => l.p99Ms),
      1,
    )} ms, ${m((l) => l.failed)} failed` +
      (floor ? `; lower floor: ${floor.scenario.label} at ${fixed(floor.requestsPerSecond, 0)} req/s` : ''),
    '',
    `| process | ${LOGIN_PARTS.join(' | ')} | all |`,
    `| --- | ${LOGIN_PARTS.map(() => '---').join(' | ')} | --- |`,
    `| CPU ms per login | ${LOGIN_PARTS.map((part) => fixed(cpu[part], 2)).join(' | ')} | ${fixed(total, 2)} |`,
    `| share | ${LOGIN_PARTS.map((part) => `${fixed((100 * cpu[part]) / Math.max(total, 1e-9), 0)} %`).join(' | ')} | 100 % |`,
    '',
    `Per round: ${logins.map((l) => `${fixed(l.loginsPerSecond, 0)}/s p99 ${fixed(l.p99Ms, 0)} ms`).join('; ')}`,
    ...failureLines(logins),
  ];
  return lines.join('\n');
}

export function loginVerdicts(logins: LoginMeasurement[], summaries: Summary[]): string[] {
  const floor = loginFloor(summaries);
  if (logins.length === 0 || !floor) return [];
  const ratio = median(logins.map((l) => l.loginsPerSecond)) / floor.requestsPerSecond;
  const ok = ratio >= MIN_LOGIN_RATIO;
  return [`${ok ? 'PASS' : 'FAIL'}  logins: ${fixed(ratio, 2)}× ${floor.scenario.key} (≥ ${MIN_LOGIN_RATIO})`];
}

/** The distinct reasons logins failed, most frequent first, so a failed CI smoke says why. */
function failureLines(logins: LoginMeasurement[]): string[] {
  const counts = new Map<string, number>();
  for (const login of logins)
    for (const [reason, count] of Object.entries(login.failures)) counts.set(reason, (counts.get(reason) ?? 0) + count);
  if (counts.size === 0) return [];
  const sorted = [...counts].sort((a, b) => b[1] - a[1]);
  return ['', 'Failed logins:', ...sorted.slice(0, 10).map(([reason, count]) => `${count} × ${reason}`)];
}
