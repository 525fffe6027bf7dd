import { Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { AppConfig } from '../config/app-config';
import { Clock } from './clock';

/** Enough for every client of a large tenant; beyond it the least recently used entry is dropped. */
const LOOKUP_CACHE_MAX_ENTRIES = 10_000;

/** A read-through cache of one kind of configuration row, keyed by its lookup key. */
export interface LookupCache<V> {
  get(key: string): Promise<V | null>;
}

/**
 * Caches for configuration rows read on every request (clients, connections). Only hits are cached: an unknown key
 * is looked up again next time, so a newly added row is seen at once and random keys cannot fill the cache.
 * Concurrent misses for one key share one load (lru-cache's fetch). Changes to a cached row (secret rotation,
 * revocation, new callbacks) are seen after at most LOOKUP_CACHE_TTL_MS; 0 disables caching.
 */
@Injectable()
export class LookupCaches {
  constructor(
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  create<V extends object>(load: (key: string) => Promise<V | null>): LookupCache<V> {
    const ttl = this.config.lookupCacheTtlMs;
    // lru-cache reads a TTL of 0 as "never expires"; here it means "do not cache".
    if (ttl <= 0) return { get: load };
    const cache = new LRUCache<string, V>({
      max: LOOKUP_CACHE_MAX_ENTRIES,
      ttl,
      // Read the injectable clock at every check rather than lru-cache's timer-cached copy of it.
      ttlResolution: 0,
      perf: { now: () => this.clock.now().getTime() },
      // lru-cache does not store `undefined`: that is how a miss stays uncached.
      fetchMethod: async (key) => (await load(key)) ?? undefined,
    });
    return { get: async (key) => (await cache.fetch(key)) ?? null };
  }
}
