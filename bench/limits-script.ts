import IORedis from 'ioredis';
import { parseArgs } from 'node:util';
import { CONSUME_SCRIPT } from '../src/rate-limit/sliding-window.store';

/**
 * `npm run bench:limits [-- options]`: Redis's own time per call of the start's limits script (INFO commandstats), in
 * the shape of a benchmark start: the connecting IP's and the client's windows (busy keys), a new address's window,
 * and with --jti a client assertion's once-key. Alternated with a script that touches no key but takes the same keys
 * and arguments, which is the fixed cost of an EVALSHA. A change to the script shows here within a microsecond or two,
 * where the load benchmark's rounds differ by 10 %. commandstats are server-wide: run it while Redis is otherwise idle.
 */
const USAGE = `Options:
  --calls N          script calls per measurement (default 20000)
  --in-flight N      calls in flight at once (default 16, the benchmark's connections)
  --rounds N         measurements of each script, alternated; medians are reported (default 3)
  --jti              add a new once-key per call, as a private_key_jwt start does`;

const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** The service's default start window (RATE_LIMIT_START_WINDOW_MS), so 60 buckets of a minute. */
const WINDOW_MS = 3_600_000;
const BUCKET_MS = WINDOW_MS / 60;
/** Limits the benchmark sets, high enough never to refuse. */
const NEVER_REACHED = 1_000_000_000;
/** A client assertion lives at most 5 minutes, plus the clock tolerance. */
const ONCE_TTL_MS = 310_000;

/** Takes the same keys and arguments and answers "admitted, nothing counted" without touching a key. */
const EMPTY_SCRIPT = `
local rules = tonumber(ARGV[3]) > 0 and #KEYS - 1 or #KEYS
local out = {}
for i = 1, rules do out[i] = { 0, 0, 0 } end
out[rules + 1] = 0
out[rules + 2] = 0
return out
`;

type ScriptName = 'limits' | 'empty';
type BenchRedis = IORedis & Record<ScriptName, (numKeys: number, ...args: Array<string | number>) => Promise<unknown>>;

function readSettings() {
  const { values } = parseArgs({
    options: {
      calls: { type: 'string', default: '20000' },
      'in-flight': { type: 'string', default: '16' },
      rounds: { type: 'string', default: '3' },
      jti: { type: 'boolean', default: false },
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
  return { calls: positive('calls', values.calls), inFlight: positive('in-flight', values['in-flight']), rounds: positive('rounds', values.rounds), jti: values.jti };
}

/** EVALSHA calls and microseconds so far, server-wide. */
async function evalshaStats(redis: IORedis): Promise<{ calls: number; usec: number }> {
  const line = /cmdstat_evalsha:calls=(\d+),usec=(\d+)/.exec(await redis.info('commandstats'));
  return { calls: Number(line?.[1] ?? 0), usec: Number(line?.[2] ?? 0) };
}

async function main(): Promise<void> {
  const settings = readSettings();
  const prefix = `pwlbench-limits:${process.pid}`;
  const redis = new IORedis(REDIS_URL) as BenchRedis;
  redis.defineCommand('limits', { lua: CONSUME_SCRIPT });
  redis.defineCommand('empty', { lua: EMPTY_SCRIPT });
  let sequence = 0;

  const call = async (script: ScriptName) => {
    const n = sequence++;
    const keys = [`${prefix}:{rl}:start-ip:127.0.0.1`, `${prefix}:{rl}:start-id:email:${n}`, `${prefix}:{rl}:start-client:bench`];
    if (settings.jti) keys.push(`${prefix}:jti:bench:${n}`);
    const rules = keys.slice(0, 3).flatMap(() => [NEVER_REACHED, BUCKET_MS, 1]);
    const reply = (await redis[script](keys.length, ...keys, Date.now(), 1, settings.jti ? ONCE_TTL_MS : 0, ...rules)) as unknown[];
    if (reply[3] !== 0 || reply[4] !== 0) throw new Error(`${script} script refused a call: ${JSON.stringify(reply)}`);
  };

  const measure = async (script: ScriptName) => {
    let remaining = settings.calls;
    const before = await evalshaStats(redis);
    await Promise.all(
      Array.from({ length: settings.inFlight }, async () => {
        while (remaining-- > 0) await call(script);
      }),
    );
    const after = await evalshaStats(redis);
    return (after.usec - before.usec) / (after.calls - before.calls);
  };

  try {
    await call('limits'); // the first call of each script loads it (EVAL); the rest are EVALSHA
    await call('empty');
    const results: Record<ScriptName, number[]> = { limits: [], empty: [] };
    for (let round = 1; round <= settings.rounds; round++) {
      for (const script of ['limits', 'empty'] as const) results[script].push(await measure(script));
      console.log(`round ${round}: limits ${results.limits.at(-1)!.toFixed(2)} µs, empty ${results.empty.at(-1)!.toFixed(2)} µs per call`);
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    console.log(
      `Redis time per call (median of ${settings.rounds}, ${settings.calls} calls each, ${settings.inFlight} in flight${settings.jti ? ', with a jti' : ''}): ` +
        `limits script ${median(results.limits).toFixed(2)} µs, empty script ${median(results.empty).toFixed(2)} µs`,
    );
  } finally {
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (found.length > 0) await redis.unlink(...found);
      cursor = next;
    } while (cursor !== '0');
    redis.disconnect();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
