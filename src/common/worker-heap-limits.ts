import { setFlagsFromString } from 'node:v8';

/** The V8 flags that, when set, override every isolate's heap limits (V8 Heap::ConfigureHeap). */
const HEAP_SIZE_FLAGS = ['max-semi-space-size', 'max-old-space-size', 'max-heap-size'];

/**
 * Lets a Worker's `resourceLimits` size its heap. V8's heap-size flags (`npm start` sets them for the API) apply to
 * every isolate in the process and take precedence over `resourceLimits`, so the relay thread got the API's 8 MB
 * semi-spaces and 128 MB old space (60 MB of heap under load, docs/benchmarks.md). V8 reads these flags only when it
 * creates an isolate: clearing them once the main isolate exists leaves its limits as they are. Process-wide: any
 * Worker started afterwards must bring its own `resourceLimits` (the relay thread is the only one).
 */
export function letResourceLimitsSizeWorkers(): void {
  for (const flag of HEAP_SIZE_FLAGS) setFlagsFromString(`--${flag}=0`);
}
