/**
 * Preloaded (`node --require`) into a server the benchmark profiles: exit normally on SIGUSR2 so that `--cpu-prof`
 * writes its profile (Nest's shutdown hook would re-raise the signal, and a process killed by a signal writes none).
 */
process.once('SIGUSR2', () => process.exit(0));
