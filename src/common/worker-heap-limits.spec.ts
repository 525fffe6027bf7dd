import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { letResourceLimitsSizeWorkers } from './worker-heap-limits';

const MB = 1024 * 1024;
const LIMITS = { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 6 };

/** The heap limit V8 gave a worker started with LIMITS, in MB. */
function workerHeapLimitMb(): Promise<number> {
  const script =
    "require('node:worker_threads').parentPort.postMessage(require('node:v8').getHeapStatistics().heap_size_limit)";
  return new Promise((resolve, reject) => {
    const worker = new Worker(script, { eval: true, resourceLimits: LIMITS });
    worker.once('message', (limit: number) => void worker.terminate().then(() => resolve(limit / MB)));
    worker.once('error', reject);
  });
}

describe('letResourceLimitsSizeWorkers', () => {
  const mainLimit = getHeapStatistics().heap_size_limit;

  // Back to unset, as Jest runs this process (no heap flags on its command line).
  afterEach(() => letResourceLimitsSizeWorkers());

  it('should let a worker be sized by its resourceLimits although the process was started with heap-size flags', async () => {
    setFlagsFromString('--max-old-space-size=512');
    setFlagsFromString('--max-semi-space-size=16');
    // The flags win over resourceLimits: this is what the API's relay thread got.
    expect(await workerHeapLimitMb()).toBeGreaterThan(512);

    letResourceLimitsSizeWorkers();

    const limit = await workerHeapLimitMb();
    expect(limit).toBeGreaterThanOrEqual(LIMITS.maxOldGenerationSizeMb);
    expect(limit).toBeLessThan(LIMITS.maxOldGenerationSizeMb + 4 * LIMITS.maxYoungGenerationSizeMb); // V8 rounds the young generation
    expect(getHeapStatistics().heap_size_limit).toBe(mainLimit);
  });
});
