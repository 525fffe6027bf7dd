import 'reflect-metadata';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { BenchEnvironment } from './bench-environment';
import { runLoad, type LoadResult } from './load';
import { pidsNamed, spentBetween, usageOf } from './proc-usage';
import { startScenarios } from './scenarios';
import { SERVICE_NODE_FLAGS, ServerProcess } from './server-process';

/**
 * `npm run bench:growth [-- options]`: POST /passwordless/start at a fixed offered rate while the verifications table
 * is empty, then holds 1 M and 10 M historical records (8 days of past logins generated with SQL, each with its
 * delivery attempt), then after a retention pass dropped the oldest day: whether a start's cost grows with the data
 * kept, and what dropping a day costs. See docs/benchmarks.md.
 */
const USAGE = `Options:
  --rows a,b,c       historical records at each step (default 0,1000000,10000000)
  --rate N           requests per second offered (default 300: about half of a 2-vCPU host's start capacity)
  --duration S       measured seconds per round (default 20)
  --rounds N         measured rounds per step, one after another; the round with the median p99 is reported
                     (default 3: on a shared VM one round's p99 moves by more than the data does)
  --warmup S         unmeasured seconds before each measurement (default 10)
  --first-warmup S   unmeasured seconds before the first one instead (default 30: the JIT is still compiling)
  --connections N    concurrent keep-alive connections (default 16)`;

/** Inserted per statement: bounded transactions, and a progress line per batch. */
const SEED_BATCH = 1_000_000;
/** The history spans 8 days: the week a 7-day retention keeps, and the day its next pass drops. */
const HISTORY_DAYS = 8;
const HISTORY_SECONDS = HISTORY_DAYS * 24 * 3600;

interface Step {
  label: string;
  rows: number;
  totalMb: number;
  result: LoadResult;
  serverCpuMs: number;
  postgresCpuMs: number;
}

function readSettings() {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '0,1000000,10000000' },
      rate: { type: 'string', default: '300' },
      duration: { type: 'string', default: '20' },
      rounds: { type: 'string', default: '3' },
      warmup: { type: 'string', default: '10' },
      'first-warmup': { type: 'string', default: '30' },
      connections: { type: 'string', default: '16' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const rows = values.rows.split(',').map(Number);
  const numbers = [values.rate, values.duration, values.warmup, values.connections, values['first-warmup']].map(Number);
  const rounds = Number(values.rounds);
  if (
    [...rows, ...numbers].some((n) => !Number.isFinite(n) || n < 0) ||
    !Number.isInteger(rounds) ||
    rounds < 1 ||
    rows.some((n, i) => i > 0 && n < rows[i - 1])
  ) {
    console.error(`Invalid options.\n${USAGE}`);
    process.exit(2);
  }
  const [rate, durationSeconds, warmupSeconds, connections, firstWarmupSeconds] = numbers;
  return { rows, rate, durationSeconds, rounds, warmupSeconds, firstWarmupSeconds, connections };
}

/**
 * Adds records `from`..`to`-1 of the history: created over the past week, 70 % redeemed, 20 % superseded by a resend,
 * 10 % never used (so they stay in the live-record index, as real abandoned codes do), each delivered once.
 */
async function seedHistory(env: BenchEnvironment, from: number, to: number): Promise<void> {
  for (let batch = from; batch < to; batch += SEED_BATCH) {
    const last = Math.min(to, batch + SEED_BATCH) - 1;
    const started = performance.now();
    await env.query(
      `WITH v AS (
         INSERT INTO verifications (id, client_id, connection, identifier, send, code_hmac, expires_at, consumed_at,
                                    superseded_at, delivery_status, request_ip, created_at, delivered_at,
                                    provider_message_id)
         SELECT lpad(to_hex((extract(epoch FROM t) * 1000)::bigint), 12, '0') || substr(md5(g::text), 1, 12),
                $1, 'email', 'history.' || g || '@bench.example.com', 'code', md5(g::text) || md5(g::text || 'c'),
                t + interval '5 minutes',
                CASE WHEN g % 10 < 7 THEN t + interval '40 seconds' END,
                CASE WHEN g % 10 IN (7, 8) THEN t + interval '90 seconds' END,
                'sent', '203.0.113.' || (g % 250), t, t + interval '2 seconds', 'bench-' || g
           FROM generate_series($2::bigint, $3::bigint) AS g,
                LATERAL (SELECT now() - make_interval(secs => ((g * 7919) % $4)::double precision) AS t) AS at
         RETURNING id, created_at)
       INSERT INTO delivery_attempts (verification_id, queue, attempt, provider, outcome, provider_message_id,
                                      started_at, finished_at)
       SELECT id, 'email', 1, 'smtp', 'sent', 'bench', created_at, created_at + interval '2 seconds' FROM v`,
      [env.secretClient.clientId, batch, last, HISTORY_SECONDS],
    );
    console.log(`  seeded ${last + 1} records (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  }
  await env.query('VACUUM ANALYZE delivery_attempts');
  // The bulk load's dirty pages are written now, not by a checkpoint in the middle of the next measurement.
  await env.query('CHECKPOINT');
}

async function main(): Promise<void> {
  const settings = readSettings();
  const env = await BenchEnvironment.create(10);
  // No worker runs: the load's records stay undelivered, which must neither make the API shed starts as a stalled
  // backlog nor send the relay's reconciliation after their jobs (a delivery cost, not a start's).
  const server = await ServerProcess.start({
    name: 'service',
    script: 'src/main.js',
    env: { ...env.env, DELIVERY_SHED_BACKLOG_AGE_MS: '0', DELIVERY_RECONCILE_AFTER_MS: String(3600_000) },
    nodeOptions: SERVICE_NODE_FLAGS,
    companionScript: 'src/relay.js',
  });
  const scenario = startScenarios(env).find((s) => s.key === 'secret')!;
  const steps: Step[] = [];
  let retention: RetentionMeasurement | undefined;
  const measureStep = async (label: string, rows: number) => {
    // Each step starts from the history alone, analysed as autovacuum would have it.
    await env.query(`DELETE FROM verifications WHERE identifier NOT LIKE 'history.%'`);
    await env.query('VACUUM ANALYZE verifications');
    const load = {
      url: `${server.baseUrl}${scenario.path}`,
      connections: settings.connections,
      overallRate: settings.rate,
      nextBody: await scenario.bodies(0, server.baseUrl),
    };
    const warmup = steps.length === 0 ? settings.firstWarmupSeconds : settings.warmupSeconds;
    await runLoad({ ...load, durationSeconds: warmup });
    // As autovacuum soon would: plans made while the table held only history would not fit the load's own rows.
    await env.query('ANALYZE verifications');
    const groups = { server: () => server.pids, postgres: () => pidsNamed('postgres') };
    const rounds: Array<Pick<Step, 'result' | 'serverCpuMs' | 'postgresCpuMs'>> = [];
    for (let round = 0; round < settings.rounds; round++) {
      const before = usageOf(groups);
      const result = await runLoad({ ...load, durationSeconds: settings.durationSeconds });
      const after = usageOf(groups);
      const perRequest = (group: keyof typeof groups) =>
        spentBetween(before, after, group, 'cpu') / Math.max(1, result.completed);
      rounds.push({ result, serverCpuMs: perRequest('server'), postgresCpuMs: perRequest('postgres') });
    }
    rounds.sort((a, b) => a.result.p99Ms - b.result.p99Ms);
    steps.push({ label, rows, totalMb: await storedMb(env), ...rounds[Math.floor(rounds.length / 2)] });
  };
  try {
    await env.reset();
    // History lands in its days' partitions, as it would have when it was written.
    await env.query(`SELECT ensure_daily_partitions(current_date - ${HISTORY_DAYS}, current_date + 3)`);
    let seeded = 0;
    for (const rows of settings.rows) {
      console.log(`step: ${rows} historical records`);
      await seedHistory(env, seeded, rows);
      seeded = rows;
      await measureStep(rows.toLocaleString('en-US'), rows);
    }
    retention = await retentionPass(env);
    await measureStep('after the retention pass', seeded - retention.rows);
  } finally {
    await server.stop();
    await env.destroy();
  }
  report(settings, steps, retention);
}

interface RetentionMeasurement {
  day: string;
  rows: number;
  ms: number;
}

/** Drops the oldest day of history as the retention job does, timing the statement (it runs alone in Postgres). */
async function retentionPass(env: BenchEnvironment): Promise<RetentionMeasurement> {
  const [oldest] = await env.query<Array<{ relname: string }>>(
    `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'verifications'::regclass AND c.relname ~ '^verifications_p[0-9]{8}$' ORDER BY c.relname LIMIT 1`,
  );
  const day = oldest.relname.slice('verifications_p'.length);
  const [{ rows }] = await env.query<Array<{ rows: number }>>(`SELECT count(*)::int AS rows FROM ${oldest.relname}`);
  const next = `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6, 8)}`;
  const started = performance.now();
  await env.query(`SELECT drop_daily_partitions_before($1::date + 1)`, [next]);
  return { day, rows, ms: performance.now() - started };
}

/** Verification records and delivery attempts on disk, indexes included, over every partition. */
async function storedMb(env: BenchEnvironment): Promise<number> {
  const [{ mb }] = await env.query<Array<{ mb: string }>>(
    `SELECT sum(pg_total_relation_size(c.oid)) / 1048576 AS mb FROM pg_class c
      WHERE c.oid IN ('verifications'::regclass, 'delivery_attempts'::regclass)
         OR c.oid IN (SELECT inhrelid FROM pg_inherits
                       WHERE inhparent IN ('verifications'::regclass, 'delivery_attempts'::regclass))`,
  );
  return Number(mb);
}

function report(settings: ReturnType<typeof readSettings>, steps: Step[], retention?: RetentionMeasurement): void {
  const cpu = cpus();
  console.log(
    `\n${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, Node ${process.version}; starts (client_secret_post) offered at ${settings.rate} req/s over ${settings.connections} connections, ${settings.warmupSeconds} s warm-up + ${settings.rounds} × ${settings.durationSeconds} s per step (the round with the median p99)\n`,
  );
  console.log(
    '| historical records | table + indexes MB | req/s | p50 ms | p99 ms | errors | server CPU ms/req | Postgres CPU ms/req |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const s of steps)
    console.log(
      `| ${s.label} | ${s.totalMb.toFixed(0)} | ${s.result.requestsPerSecond.toFixed(0)} | ${s.result.p50Ms} | ${s.result.p99Ms} | ${s.result.errors} | ${s.serverCpuMs.toFixed(2)} | ${s.postgresCpuMs.toFixed(2)} |`,
    );
  const largest = steps.filter((s) => s.label !== 'after the retention pass');
  const [first, last] = [steps[0], largest[largest.length - 1]];
  if (steps.length > 1) {
    const throughput = last.result.requestsPerSecond / first.result.requestsPerSecond;
    const p99 = last.result.p99Ms / Math.max(1, first.result.p99Ms);
    const ok = throughput >= 0.9 && p99 <= 1.1;
    console.log(
      `\nAt ${last.rows.toLocaleString('en-US')} records: ${throughput.toFixed(2)} × the throughput and ${p99.toFixed(2)} × the p99 of ${first.rows.toLocaleString('en-US')} (target: within 10 %): ${ok ? 'PASS' : 'FAIL'}`,
    );
  }
  if (retention)
    console.log(
      `Retention pass: the day ${retention.day} (${retention.rows.toLocaleString('en-US')} records and their attempts) dropped in ${retention.ms.toFixed(0)} ms (target: under 1 s): ${retention.ms < 1000 ? 'PASS' : 'FAIL'}`,
    );
  if (steps.some((s) => s.result.errors > 0)) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
