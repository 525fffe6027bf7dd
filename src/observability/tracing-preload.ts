import { startTracing } from './tracing';

/**
 * The entry points' first import: instrumentation must patch http, fastify, pg and ioredis before they are loaded.
 * The role comes from the entry point's file name (main → api).
 */
const entry = /([a-z]+)\.[jt]s$/.exec(process.argv[1] ?? '')?.[1] ?? 'api';
startTracing(entry === 'main' ? 'api' : entry);
