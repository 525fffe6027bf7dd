import 'reflect-metadata';
import IORedis from 'ioredis';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/app-config';
import { SlidingWindowStore, type LimitRule } from '../src/rate-limit/sliding-window.store';
import { deleteKeysWithPrefix } from '../test/utils/redis-keys';
import { BENCH_REDIS_URL, NEVER_REACHED } from './bench-environment';

/**
 * `npm run bench:limits [-- options]`: Redis's own time per call of the start's limits script (INFO commandstats), in
 * the shape of a benchmark start's two calls: the connecting IP's window (a busy key), then the client's (busy) and a
 * new address's windows. Alternated with a script that touches no key but takes the same keys
 * and arguments, which is the fixed cost of an EVALSHA. A change to the script shows here within a microsecond or two,
 * where the load benchmark's rounds differ by 10 %. commandstats are server-wide: run it while Redis is otherwise idle.
 */
const USAGE = `Options:
  --calls N          script calls per measurement (default 20000)
  --in-flight N      calls in flight at once (default 16, the benchmark's connections)
  --rounds N         measurements of each script, alternated; medians are reported (default 3)`;

/**
 * Takes the same keys and arguments as the limits script and answers "admitted, nothing counted" without touching a
 * key: the fixed cost of an EVALSHA with that many keys and arguments.
 */
const EMPTY_SCRIPT = `
local out = {}
for i = 1, #KEYS do out[i] = { 0, 0, 0 } end
out[#KEYS + 1] = 0
return out
`;

type ScriptName = 'limits' | 'empty';

function readSettings() {
  const { values } = parseArgs({
    options: {
      calls: { type: 'string', default: '20000' },
      'in-flight': { type: 'string', default: '16' },
      rounds: { type: 'string', default: '3' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const positive = (name: string, value: string) => {
    const parsed = Number(value);
    if (!(parsed > 0)) throw new Error(`--${name} must be a positive number\n${USAGE}`);
    return parsed;
  };
  return {
    calls: positive('calls', values.calls),
    inFlight: positive('in-flight', values['in-flight']),
    rounds: positive('rounds', values.rounds),
  };
}

/** EVALSHA calls and microseconds so far, server-wide. */
async function evalshaStats(redis: IORedis): Promise<{ calls: number; usec: number }> {
  const line = /cmdstat_evalsha:calls=(\d+),usec=(\d+)/.exec(await redis.info('commandstats'));
  return { calls: Number(line?.[1] ?? 0), usec: Number(line?.[2] ?? 0) };
}

async function main(): Promise<void> {
  const settings = readSettings();
  const config = loadConfig({ REDIS_URL: BENCH_REDIS_URL, REDIS_PREFIX: `pwlbench-limits-${process.pid}` });
  const connections = { limits: new IORedis(BENCH_REDIS_URL), empty: new IORedis(BENCH_REDIS_URL) };
  const stores: Record<ScriptName, SlidingWindowStore> = {
    limits: new SlidingWindowStore(connections.limits, config),
    empty: new SlidingWindowStore(connections.empty, config),
  };
  // The store's calls, keys and arguments unchanged, with the empty script in place of the limits script.
  connections.empty.defineCommand('pwlRateLimitConsume', { lua: EMPTY_SCRIPT });
  const windowMs = config.rateLimit.startWindowMs;
  let sequence = 0;

  /** The calls of one start for a new address: StartIpLimiter's, then StartLimiter's. */
  const call = async (script: ScriptName) => {
    const n = sequence++;
    const ip: LimitRule[] = [{ name: 'start-ip', key: 'start-ip:127.0.0.1', limit: NEVER_REACHED, windowMs }];
    const start: LimitRule[] = [
      { name: 'start-identifier', key: `start-id:email:${n}`, limit: NEVER_REACHED, windowMs },
      { name: 'start-client', key: 'start-client:bench', limit: NEVER_REACHED, windowMs },
    ];
    for (const [rules, leading] of [
      [ip, 1],
      [start, 0],
    ] as const) {
      const decision = await stores[script].consume(rules, Date.now(), { leading });
      // The store fails open without Redis (no states): that must not pass for a measurement.
      if (!decision.allowed || decision.states.length !== rules.length)
        throw new Error(`${script} script did not admit a call`);
    }
  };

  const measure = async (script: ScriptName) => {
    let remaining = settings.calls;
    const before = await evalshaStats(connections.limits);
    await Promise.all(
      Array.from({ length: settings.inFlight }, async () => {
        while (remaining-- > 0) await call(script);
      }),
    );
    const after = await evalshaStats(connections.limits);
    return (after.usec - before.usec) / (after.calls - before.calls);
  };

  try {
    await call('limits'); // the first call of each script loads it (EVAL); the rest are EVALSHA
    await call('empty');
    const results: Record<ScriptName, number[]> = { limits: [], empty: [] };
    for (let round = 1; round <= settings.rounds; round++) {
      for (const script of ['limits', 'empty'] as const) results[script].push(await measure(script));
      console.log(
        `round ${round}: limits ${results.limits.at(-1)!.toFixed(2)} µs, empty ${results.empty.at(-1)!.toFixed(2)} µs per call`,
      );
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    console.log(
      `Redis time per call (median of ${settings.rounds}, ${settings.calls} calls each, ${settings.inFlight} in flight): ` +
        `limits script ${median(results.limits).toFixed(2)} µs, empty script ${median(results.empty).toFixed(2)} µs`,
    );
  } finally {
    await deleteKeysWithPrefix(connections.limits, `${config.redis.prefix}:`);
    connections.limits.disconnect();
    connections.empty.disconnect();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
