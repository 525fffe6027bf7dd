import 'reflect-metadata';
import { cpus } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { BenchEnvironment } from './bench-environment';
import { LoginRig, measureLogins, type LoginMeasurement } from './login';
import { runLoad } from './load';
import {
  cpuSplitTable,
  LOGIN_FLOORS,
  loginReport,
  loginVerdicts,
  roundsDetail,
  sameWorkRatios,
  summarise,
  syscallTable,
  table,
  targetVerdicts,
  type Measurement,
} from './report';
import { startScenarios, type Scenario, type ServerKind } from './scenarios';
import { machineBusyMs, mainThreadCpuMs, pidsNamed, redisServerPid, spentBetween, usageOf } from './proc-usage';
import { freePort, SERVICE_NODE_FLAGS, ServerProcess } from './server-process';

/**
 * `npm run bench [-- options]`: POST /passwordless/start on the service against a hand-written floor, same Postgres and
 * Redis, loaded in turn by autocannon from this process over loopback. See docs/benchmarks.md.
 */
const USAGE = `Options:
  --smoke            a few seconds: 1 round, short load; exits non-zero on any error (for CI)
  --rounds N         measurements per scenario, interleaved; medians are reported (default 3)
  --duration S       measured seconds per round (default 10)
  --warmup S         unmeasured seconds before each measurement (default 3)
  --first-warmup S   unmeasured seconds before the first measurement on each server (default 20), instead of --warmup:
                     the service's JIT is still compiling well after 3 s of load (docs/benchmarks.md)
  --connections N    concurrent keep-alive connections (default 16)
  --pool N           DATABASE_POOL_SIZE of both servers (default 10)
  --rate N           offer a fixed N req/s instead of saturating the server: the CPU ms/req column then compares
                     code changes with little noise from contention (req/s and latency say nothing about capacity)
  --login            complete logins instead of the request scenarios: start → the worker's email to a sink here →
                     the code from the message → OTP exchange, against both floors measured in the same run
  --users N          with --login: users logging in at once, each back to back (default 64; a login waits for its
                     mail, so it takes more of them than connections to keep the box busy)
  --only a,b         scenarios to run: floor, floor-jwt, floor-durable, secret, jwt, same, floor-token, token
                     (default all)
  --profile DIR      run the service under node --cpu-prof, writing the profile to DIR
  --metrics          run the service with METRICS_PORT set, as in production when Prometheus scrapes it (the default
                     runs it without: no metrics are kept)
  --node-options=S   Node flags for the service instead of the deployed ones (${SERVICE_NODE_FLAGS})`;

const SERVER_SCRIPTS: Record<ServerKind, string> = { floor: 'bench/floor/floor-server.js', service: 'src/main.js' };
/** Throughput assumed when sizing the pre-signed assertion pool, before and besides what was measured. */
const MIN_RPS_HINT = 1500;
const SETTLE_MS = 500;

interface Settings {
  smoke: boolean;
  rounds: number;
  durationSeconds: number;
  warmupSeconds: number;
  firstWarmupSeconds: number;
  connections: number;
  poolSize: number;
  rate?: number;
  only?: string[];
  profileDir?: string;
  nodeOptions?: string;
  metrics: boolean;
  login: boolean;
  users: number;
}

function readSettings(): Settings {
  const { values } = parseArgs({
    options: {
      smoke: { type: 'boolean', default: false },
      login: { type: 'boolean', default: false },
      users: { type: 'string' },
      rounds: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      'first-warmup': { type: 'string' },
      connections: { type: 'string' },
      pool: { type: 'string' },
      rate: { type: 'string' },
      only: { type: 'string' },
      profile: { type: 'string' },
      'node-options': { type: 'string' },
      metrics: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const number = (value: string | undefined, fallback: number) => {
    const parsed = value === undefined ? fallback : Number(value);
    if (!(parsed > 0)) throw new Error(`Not a positive number: ${value}\n${USAGE}`);
    return parsed;
  };
  const smoke = values.smoke;
  return {
    smoke,
    rounds: number(values.rounds, smoke ? 1 : 3),
    durationSeconds: number(values.duration, smoke ? 1 : 10),
    warmupSeconds: number(values.warmup, smoke ? 0.5 : 3),
    firstWarmupSeconds: number(values['first-warmup'], smoke ? 0.5 : 20),
    connections: number(values.connections, smoke ? 4 : 16),
    poolSize: number(values.pool, 10),
    rate: values.rate === undefined ? undefined : number(values.rate, 0),
    only: values.only?.split(','),
    profileDir: values.profile,
    nodeOptions: values['node-options'],
    metrics: values.metrics,
    login: values.login,
    users: number(values.users, smoke ? 8 : 64),
  };
}

/** One request before the load: a scenario that does not answer 200 with the expected keys is a broken benchmark. */
async function sanityCheck(scenario: Scenario, url: string, body: string): Promise<void> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const text = await response.text();
  const keys = response.ok
    ? Object.keys(JSON.parse(text) as object)
        .sort()
        .join(',')
    : '';
  if (keys !== [...scenario.answerKeys].sort().join(','))
    throw new Error(`${scenario.key}: unexpected answer ${response.status} ${text}`);
}

async function measure(
  scenario: Scenario,
  server: ServerProcess,
  redisPid: number,
  settings: Settings,
  warmupSeconds: number,
  rpsHint: number,
): Promise<Measurement> {
  const url = `${server.baseUrl}${scenario.path}`;
  // Generous: another scenario's speed is only a hint, and running out of assertions would show up as errors.
  const expected = Math.ceil(Math.max(rpsHint, MIN_RPS_HINT) * (warmupSeconds + settings.durationSeconds) * 2);
  const nextBody = await scenario.bodies(expected, server.baseUrl);
  await sanityCheck(scenario, url, nextBody());
  const load = { url, connections: settings.connections, nextBody, overallRate: settings.rate };
  const warmup = await runLoad({ ...load, durationSeconds: warmupSeconds });
  const peakRss = server.sampleRss();
  const processes = {
    server: () => server.pids,
    postgres: () => pidsNamed('postgres'),
    redis: () => [redisPid],
    load: () => [process.pid],
  };
  const before = usageOf(processes);
  const mainThreadBefore = mainThreadCpuMs(server.pid);
  const busyBefore = machineBusyMs();
  const startedAt = performance.now();
  const result = await runLoad({ ...load, durationSeconds: settings.durationSeconds });
  const capacity = (performance.now() - startedAt) * cpus().length;
  const busy = machineBusyMs() - busyBefore;
  const mainThread = mainThreadCpuMs(server.pid) - mainThreadBefore;
  const after = usageOf(processes);
  const perRequest = (ms: number) => ms / Math.max(1, result.completed);
  const spent = (group: keyof typeof processes, what: 'cpu' | 'calls' = 'cpu') =>
    perRequest(spentBetween(before, after, group, what));
  const cpuMsPerRequest = spent('server');
  const cpuSplit = {
    serverMainThread: perRequest(mainThread),
    postgres: spent('postgres'),
    redis: spent('redis'),
    load: spent('load'),
    machine: perRequest(busy),
    idle: perRequest(Math.max(0, capacity - busy)),
  };
  const syscalls = {
    server: spent('server', 'calls'),
    postgres: spent('postgres', 'calls'),
    redis: spent('redis', 'calls'),
    load: spent('load', 'calls'),
  };
  const measurement = {
    ...result,
    errors: result.errors + warmup.errors,
    rssPeakBytes: peakRss(),
    cpuMsPerRequest,
    cpuSplit,
    syscalls,
  };
  if (measurement.errors > 0)
    console.log(
      `  ${scenario.key}: ${measurement.errors} errors, statuses ${JSON.stringify({ ...warmup.statusCounts, ...result.statusCounts })}`,
    );
  return measurement;
}

async function main(): Promise<void> {
  const settings = readSettings();
  const env = await BenchEnvironment.create(settings.poolSize);
  const servers = new Map<ServerKind, ServerProcess>();
  try {
    const only = settings.only ?? (settings.login ? LOGIN_FLOORS : undefined);
    const scenarios = startScenarios(env).filter((s) => !only || only.includes(s.key));
    const kinds = new Set(scenarios.map((s) => s.server));
    if (settings.login) kinds.add('service');
    for (const kind of kinds) {
      const service = kind === 'service';
      servers.set(
        kind,
        await ServerProcess.start({
          name: kind,
          script: SERVER_SCRIPTS[kind],
          env: env.env,
          cpuProfileDir: service ? settings.profileDir : undefined,
          nodeOptions: service ? (settings.nodeOptions ?? SERVICE_NODE_FLAGS) : undefined,
          serverEnv: service && settings.metrics ? { METRICS_PORT: String(await freePort()) } : undefined,
          companionScript: service ? 'src/relay.js' : undefined,
        }),
      );
    }
    const redisPid = await redisServerPid(env.env.REDIS_URL);
    const rig = settings.login ? await LoginRig.start(env, join(__dirname, '..')) : undefined;
    const logins: LoginMeasurement[] = [];
    const results = new Map<Scenario, Measurement[]>(scenarios.map((s) => [s, []]));
    let fastest = 0;
    /** Servers that had their first, longer warm-up (one scenario's: pre-signing 20 s of assertions would take a minute). */
    const warmed = new Set<ServerKind>();
    for (let round = 0; round < settings.rounds; round++) {
      console.log(`round ${round + 1}/${settings.rounds}`);
      for (const scenario of scenarios) {
        await sleep(SETTLE_MS); // requests cut off by the previous load finish before the tables are emptied
        await env.reset();
        const warmupSeconds = warmed.has(scenario.server) ? settings.warmupSeconds : settings.firstWarmupSeconds;
        warmed.add(scenario.server);
        const measurement = await measure(
          scenario,
          servers.get(scenario.server)!,
          redisPid,
          settings,
          warmupSeconds,
          fastest,
        );
        results.get(scenario)!.push(measurement);
        fastest = Math.max(fastest, measurement.requestsPerSecond);
      }
      if (rig) {
        await sleep(SETTLE_MS);
        await env.reset();
        const warmupSeconds = logins.length === 0 ? settings.firstWarmupSeconds : settings.warmupSeconds;
        const service = servers.get('service')!;
        logins.push(
          await measureLogins(env, service, rig, redisPid, {
            connections: settings.users,
            seconds: settings.durationSeconds,
            warmupSeconds,
          }),
        );
      }
    }
    await rig?.stop();
    const summaries = [...results].map(([scenario, rounds]) => summarise(scenario, rounds));
    const cpu = cpus();
    console.log(
      `\n${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, Node ${process.version}; ${settings.rounds} round(s) of ${settings.warmupSeconds} s warm-up (${settings.firstWarmupSeconds} s before a server's first) + ${settings.durationSeconds} s at ${settings.connections} connections, pool ${settings.poolSize}; medians\n`,
    );
    console.log(table(summaries));
    const sameWork = sameWorkRatios(summaries);
    if (sameWork.length > 0)
      console.log(`\nAgainst floors doing more of the same work (context, not a target):\n${sameWork.join('\n')}`);
    console.log(`\nCPU ms per request across the machine (medians):\n${cpuSplitTable(summaries)}`);
    console.log(`\nRead/write system calls per request (medians):\n${syscallTable(summaries)}`);
    console.log(`\nPer round:\n${roundsDetail(summaries)}`);
    // A one-second smoke run says nothing about the targets; only full runs are judged against them.
    if (logins.length > 0) console.log(`\n${loginReport(logins, summaries)}`);
    const verdicts =
      settings.smoke || settings.rate ? [] : [...targetVerdicts(summaries), ...loginVerdicts(logins, summaries)];
    if (verdicts.length > 0) console.log(`\n${verdicts.join('\n')}`);
    if (summaries.some((s) => s.errors > 0) || logins.some((l) => l.failed > 0 || l.completed === 0))
      process.exitCode = 1;
  } finally {
    for (const server of servers.values()) await server.stop();
    await env.destroy();
  }
  if (settings.profileDir) console.log(`\nCPU profile of the service written to ${settings.profileDir}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
