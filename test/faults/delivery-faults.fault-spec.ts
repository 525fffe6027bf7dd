import { faultTable, FaultStack, type FaultRow, type StackOptions } from './fault-stack';

/**
 * A 200 from /passwordless/start means the message is delivered, under routine faults: each row drives a steady load
 * at the whole service (API, relay and two email workers as processes, private Postgres and Redis), injects one fault,
 * and matches every 200 against the SMTP server. Duplicates are allowed (at-least-once) only for messages a provider
 * accepted just before a crash; they are counted and reported.
 */
const RATE = 40;
const SECONDS = 10;
const FAULT_AT = 3;
const SETTLE_MS = 90_000;
const ROW_TIMEOUT_MS = 180_000;

const rows: FaultRow[] = [];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function row(
  fault: string,
  options: StackOptions,
  inject: (stack: FaultStack) => Promise<void>,
  load: { rate?: number; seconds?: number } = {},
): Promise<FaultRow> {
  const stack = await FaultStack.start(options);
  try {
    const outcomes = await stack.drive(load.rate ?? RATE, load.seconds ?? SECONDS, {
      atSeconds: FAULT_AT,
      run: () => inject(stack),
    });
    const result = await stack.settle(fault, outcomes, SETTLE_MS);
    rows.push(result);
    expect(stack.workersAlive).toBe(true);
    return result;
  } finally {
    await stack.destroy();
  }
}

/** Redis killed (SIGKILL) and started again `afterMs` later: without AOF it comes back empty. */
const restartRedis = (afterMs: number) => async (stack: FaultStack) => {
  await stack.redis.stop();
  await sleep(afterMs);
  await stack.redis.restart();
};

describe('Delivery under faults', () => {
  afterAll(() => {
    process.stdout.write(`\n${faultTable(rows)}\n\n`);
  });

  it(
    'Redis kill -9, restarted empty after 3 s, queue nearly empty',
    async () => {
      const r = await row('Redis kill -9, restarted empty, queue nearly empty', {}, restartRedis(3000));
      expect(r.lost).toBe(0);
      expect(r.accepted).toBeGreaterThan(0);
    },
    ROW_TIMEOUT_MS,
  );

  it(
    'Redis kill -9, restarted empty, with a backlog of jobs waiting in it (slow provider)',
    async () => {
      const r = await row(
        'Redis kill -9, restarted empty, backlog waiting (slow provider)',
        { smtpDelayMs: 400, workerConcurrency: 4, env: { DELIVERY_SHED_BACKLOG_AGE_MS: '0' } },
        restartRedis(2000),
      );
      expect(r.lost).toBe(0);
      expect(r.accepted).toBeGreaterThan(0);
    },
    ROW_TIMEOUT_MS,
  );

  it(
    'Redis with AOF, kill -9 and restart on the same data',
    async () => {
      const r = await row(
        'Redis (appendonly yes) kill -9, restarted',
        { redisAof: true, smtpDelayMs: 100, workerConcurrency: 4 },
        restartRedis(2000),
      );
      expect(r.lost).toBe(0);
    },
    ROW_TIMEOUT_MS,
  );

  it(
    'both workers kill -9, restarted after 2 s: jobs they held are redelivered within 15 s',
    async () => {
      const r = await row('worker kill -9 x2, restarted after 2 s', { smtpDelayMs: 300 }, async (stack) => {
        await Promise.all(stack.workers.map((w) => stack.kill(w)));
        await sleep(2000);
        await Promise.all(stack.workers.map((_, i) => stack.startWorker(i)));
      });
      expect(r.lost).toBe(0);
      // Killed at 3 s, back at about 5 s plus their boot; a held job is taken again after its lock expired.
      expect(r.maxDeliveryMs).toBeLessThan(25_000);
    },
    ROW_TIMEOUT_MS,
  );

  it(
    'API kill -9, restarted after 2 s',
    async () => {
      const r = await row('API kill -9, restarted after 2 s', {}, async (stack) => {
        await stack.kill(stack.api);
        await sleep(2000);
        await stack.startApi();
      });
      expect(r.lost).toBe(0);
      expect(r.refused['0']).toBeGreaterThan(0); // requests while it was down got no answer
    },
    ROW_TIMEOUT_MS,
  );

  it(
    'Postgres paused (SIGSTOP) for 5 s: requests are answered within bounded time',
    async () => {
      const r = await row('Postgres paused 5 s (SIGSTOP)', {}, async (stack) => {
        stack.pg.pause(true);
        await sleep(5000);
        stack.pg.pause(false);
      });
      expect(r.lost).toBe(0);
      // Bounded by the wait for a pool client (DATABASE_CONNECT_TIMEOUT_MS, 2 s here) plus the client-side limit of
      // one statement (DATABASE_STATEMENT_TIMEOUT_MS + 1 s), not by how long the database stays paused.
      expect(r.maxAnswerMs).toBeLessThan(2000 + 3000 + 1500);
      expect(r.refused['503']).toBeGreaterThan(0);
    },
    ROW_TIMEOUT_MS,
  );

  it(
    'Postgres stop -m immediate, restarted after 3 s: workers survive',
    async () => {
      const r = await row('Postgres stop -m immediate, restarted after 3 s', { smtpDelayMs: 100 }, async (stack) => {
        stack.pg.stopImmediately();
        await sleep(3000);
        await stack.pg.restart();
      });
      expect(r.lost).toBe(0);
    },
    ROW_TIMEOUT_MS,
  );

  it(
    'overload: starts beyond what delivery sustains are refused with 503 once delivery falls behind',
    async () => {
      const r = await row(
        'overload: 40 starts/s against ~10 mails/s',
        // One worker, two sends at a time of 200 ms each: about 10 mails/s.
        { workers: 1, workerConcurrency: 2, smtpDelayMs: 200, env: { DELIVERY_SHED_BACKLOG_AGE_MS: '3000' } },
        () => Promise.resolve(),
        { seconds: 15 },
      );
      expect(r.refused['503']).toBeGreaterThan(0);
      expect(r.lost).toBe(0);
    },
    ROW_TIMEOUT_MS,
  );
});
