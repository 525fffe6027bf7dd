import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { Clock } from './clock';

/** Enough for every client of a large tenant; beyond it the oldest entry is dropped. */
const LOOKUP_CACHE_MAX_ENTRIES = 10_000;

/**
 * A small bounded read-through cache for configuration rows read on every request (clients, connections).
 * Only hits are cached: an unknown key is looked up again next time, so a newly added row is seen at once and random
 * keys cannot fill the cache. Concurrent misses for one key share one load. Changes to a cached row (secret rotation,
 * revocation, new callbacks) are seen after at most `ttlMs`; a TTL of 0 disables caching.
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: Promise<V | null>; expiresAt: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number,
  ) {}

  get(key: string, load: () => Promise<V | null>): Promise<V | null> {
    if (this.ttlMs <= 0) return load();
    const now = this.now();
    const cached = this.entries.get(key);
    if (cached && cached.expiresAt > now) return cached.value;
    if (cached) this.entries.delete(key);
    const entry = { value: load(), expiresAt: now + this.ttlMs };
    const forget = () => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    };
    void entry.value.then((found) => found === null && forget(), forget);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, entry);
    return entry.value;
  }
}

/** Makes the caches for request-path reads of configuration rows (LOOKUP_CACHE_TTL_MS, the injectable Clock). */
@Injectable()
export class LookupCaches {
  constructor(
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  create<V>(): TtlCache<V> {
    return new TtlCache<V>(this.config.lookupCacheTtlMs, LOOKUP_CACHE_MAX_ENTRIES, () => this.clock.now().getTime());
  }
}
