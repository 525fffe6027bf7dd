import { loadConfig } from '../config/app-config';
import type { DeliveryQueue } from './delivery.queue';
import { BUSY_PASS_INTERVAL_MS, OutboxRelay } from './outbox.relay';
import type { OutboxRepository, OutboxRow } from './outbox.repository';

const RELAY_INTERVAL_MS = 250;

describe(OutboxRelay.name, () => {
  const config = loadConfig({ NODE_ENV: 'test', OUTBOX_RELAY_INTERVAL_MS: String(RELAY_INTERVAL_MS) });
  const row: OutboxRow = {
    verificationId: 'a'.repeat(24),
    queue: 'email' as OutboxRow['queue'],
    payload: { verificationId: 'a'.repeat(24), sealedSecret: 's' },
    live: true,
  };
  let passes: Array<() => Promise<void>>;
  let enqueued: number;
  let rowsPerPass: number;
  let relay: OutboxRelay;

  // Fake timers also fake Date and performance.now, which the relay uses to space its passes.
  const advance = (ms: number) => jest.advanceTimersByTimeAsync(ms);

  beforeEach(() => {
    jest.useFakeTimers();
    passes = [];
    enqueued = 0;
    rowsPerPass = 1;
    const outbox = {
      // Each pass takes rowsPerPass rows and publishes them; a test controls when it may finish.
      takeBatch: async (_limit: number, publish: (rows: OutboxRow[]) => Promise<void>) => {
        await (passes.shift() ?? (() => Promise.resolve()))();
        await publish(Array<OutboxRow>(rowsPerPass).fill(row));
        return rowsPerPass;
      },
      recordRelayFailure: () => Promise.resolve(),
    } as unknown as OutboxRepository;
    const queue = { enqueueAll: () => Promise.resolve(void enqueued++) } as unknown as DeliveryQueue;
    relay = new OutboxRelay(outbox, queue, config);
  });

  afterEach(async () => {
    await relay.onApplicationShutdown();
    jest.useRealTimers();
  });

  it('should run one more pass for a start that committed while a pass was running', async () => {
    let release!: () => void;
    passes.push(() => new Promise<void>((resolve) => (release = resolve)));
    relay.wake();
    relay.wake(); // arrives during the first pass
    release();
    await advance(20);
    expect(enqueued).toBe(2);
  });

  it('should leave the next pass to the timer after a failed pass instead of retrying on every start', async () => {
    passes.push(() => Promise.reject(new Error('redis down')));
    relay.onApplicationBootstrap();
    relay.wake();
    await advance(10);
    relay.wake();
    relay.wake();
    await advance(10);
    expect(enqueued).toBe(0);

    await advance(RELAY_INTERVAL_MS * 1.5);
    expect(enqueued).toBeGreaterThanOrEqual(1);
  });

  it('should start a pass at once after a pass of one row, but space passes of several rows BUSY_PASS_INTERVAL_MS apart', async () => {
    const startedAt: number[] = [];
    passes.push(...Array.from({ length: 4 }, () => () => Promise.resolve(void startedAt.push(Date.now()))));
    relay.wake();
    relay.wake(); // during the first pass
    await advance(10);
    expect(startedAt).toHaveLength(2);
    expect(startedAt[1] - startedAt[0]).toBeLessThan(BUSY_PASS_INTERVAL_MS);

    rowsPerPass = 2;
    relay.wake();
    relay.wake();
    await advance(BUSY_PASS_INTERVAL_MS * 3); // the relay's timer was set first, so it fires first
    expect(startedAt).toHaveLength(4);
    expect(startedAt[3] - startedAt[2]).toBeGreaterThanOrEqual(BUSY_PASS_INTERVAL_MS - 1);
  });
});
