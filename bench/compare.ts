import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BenchEnvironment } from './bench-environment';
import { copyAssets } from './copy-assets';
import { runLoad, type LoadResult } from './load';
import { spentBetween, usageOf } from './proc-usage';
import { startScenarios, type Scenario } from './scenarios';
import { SERVICE_NODE_FLAGS, ServerProcess } from './server-process';

/**
 * `npm run bench:compare -- --against DIR [options]`: this build's service and another build's (DIR, a checkout of the
 * code to compare with, e.g. `git worktree add ../base <commit>` with `node_modules` linked in) run at the same time,
 * each with its own database, Redis prefix and load generator. On a shared VM two runs of the same code minutes apart
 * differ by more than most changes; side by side both builds see the same moment of the host (docs/benchmarks.md).
 */
const USAGE = `Options:
  --against DIR      the other checkout (built here with its own bench/tsconfig.json)
  --only a,b         start scenarios to compare: secret, jwt (default secret)
  --rounds N         measured rounds per scenario (default 4)
  --duration S       measured seconds per round (default 10)
  --warmup S         unmeasured seconds before each round (default 3; 15 before the first)
  --connections N    connections per server (default 32)`;

interface Side {
  label: string;
  server: ServerProcess;
  env: BenchEnvironment;
}

/** Throughput assumed per server when sizing the pre-signed assertion pool (two servers share the machine). */
const RPS_HINT = 1800;
const FIRST_WARMUP_SECONDS = 15;

function readSettings() {
  const { values } = parseArgs({
    options: {
      against: { type: 'string' },
      only: { type: 'string', default: 'secret' },
      rounds: { type: 'string', default: '4' },
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '3' },
      connections: { type: 'string', default: '32' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.against) {
    console.log(USAGE);
    process.exit(values.help ? 0 : 1);
  }
  const positive = (name: string, value: string) => {
    const parsed = Number(value);
    if (!(parsed > 0)) throw new Error(`--${name} must be a positive number\n${USAGE}`);
    return parsed;
  };
  return {
    against: resolve(values.against),
    only: values.only.split(','),
    rounds: positive('rounds', values.rounds),
    durationSeconds: positive('duration', values.duration),
    warmupSeconds: positive('warmup', values.warmup),
    connections: positive('connections', values.connections),
  };
}

/** Compiles the other checkout's service and bench into its own dist-bench/, with its own dependencies. */
function buildOther(dir: string): string {
  if (!existsSync(join(dir, 'node_modules')))
    throw new Error(`${dir} has no node_modules (npm ci there, or link this checkout's)`);
  execFileSync(join(dir, 'node_modules', '.bin', 'tsc'), ['-p', join(dir, 'bench', 'tsconfig.json')], {
    cwd: dir,
    stdio: 'inherit',
  });
  copyAssets(dir);
  return join(dir, 'dist-bench');
}

async function startSide(label: string, distRoot?: string): Promise<Side> {
  const env = await BenchEnvironment.create(10);
  try {
    const server = await ServerProcess.start({
      name: label,
      script: 'src/main.js',
      distRoot,
      env: env.env,
      nodeOptions: SERVICE_NODE_FLAGS,
      companionScript: 'src/relay.js',
    });
    return { label, server, env };
  } catch (err) {
    await env.destroy(); // a server that did not boot must not leave its database and keys behind
    throw err;
  }
}

async function compareRound(
  sides: Side[],
  key: string,
  warmupSeconds: number,
  settings: ReturnType<typeof readSettings>,
): Promise<string> {
  const scenarios = sides.map((side) =>
    startScenarios(side.env).find((s): s is Scenario => s.key === key && s.server === 'service'),
  );
  if (scenarios.some((s) => !s)) throw new Error(`unknown service scenario ${key}`);
  await Promise.all(sides.map((side) => side.env.reset()));
  const expected = Math.ceil(RPS_HINT * (warmupSeconds + settings.durationSeconds) * 1.3);
  const bodies = await Promise.all(sides.map((side, i) => scenarios[i]!.bodies(expected, side.server.baseUrl)));
  const load = (seconds: number) =>
    Promise.all(
      sides.map((side, i) =>
        runLoad({
          url: `${side.server.baseUrl}${scenarios[i]!.path}`,
          connections: settings.connections,
          durationSeconds: seconds,
          nextBody: bodies[i],
        }),
      ),
    );
  await load(warmupSeconds);
  const groups = Object.fromEntries(sides.map((side) => [side.label, () => side.server.pids]));
  const before = usageOf(groups);
  const results = await load(settings.durationSeconds);
  const after = usageOf(groups);
  const describe = (side: Side, result: LoadResult) => {
    const cpu = spentBetween(before, after, side.label, 'cpu') / Math.max(1, result.completed);
    return `${side.label} ${result.requestsPerSecond.toFixed(0)} req/s, p99 ${result.p99Ms} ms, ${cpu.toFixed(3)} CPU ms/req, ${result.errors} errors`;
  };
  return sides.map((side, i) => describe(side, results[i])).join(' | ');
}

async function main(): Promise<void> {
  const settings = readSettings();
  const otherDist = buildOther(settings.against);
  const sides: Side[] = [];
  try {
    sides.push(await startSide('this'), await startSide('other', otherDist));
    console.log(`this = ${process.cwd()}, other = ${settings.against}; ${settings.connections} connections each`);
    let first = true;
    for (const key of settings.only) {
      for (let round = 1; round <= settings.rounds; round++) {
        const line = await compareRound(sides, key, first ? FIRST_WARMUP_SECONDS : settings.warmupSeconds, settings);
        first = false;
        console.log(`${key} round ${round}: ${line}`);
      }
    }
  } finally {
    for (const side of sides) {
      await side.server.stop();
      await side.env.destroy();
    }
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
