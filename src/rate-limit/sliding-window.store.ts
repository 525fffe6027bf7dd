import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OutageLog } from '../common/outage-log';
import { metrics } from '../observability/metrics';
import { AppConfig } from '../config/app-config';
import { REDIS } from '../redis/redis.module';

/** A window is split into this many buckets: counts are exact to 1/60 of the window (1 minute of an hour). */
const BUCKETS_PER_WINDOW = 60;

/** Loaded once at boot; nest-cli.json copies the .lua files next to the compiled store. */
const CONSUME_SCRIPT = readFileSync(join(__dirname, 'sliding-window.consume.lua'), 'utf8');
const REFUND_SCRIPT = readFileSync(join(__dirname, 'sliding-window.refund.lua'), 'utf8');
const CLAIM_GATE_SCRIPT = readFileSync(join(__dirname, 'backoff-gate.claim.lua'), 'utf8');

export interface LimitRule {
  /** Shown in logs: `start-ip`, `sms-prefix`, ... */
  name: string;
  /** Key below `<REDIS_PREFIX>:{rl}:`. */
  key: string;
  /** Hits allowed per window; 0 means the rule only counts (breaker statistics). */
  limit: number;
  windowMs: number;
  /** Hits this request adds (default 1; 0 reads without counting). */
  cost?: number;
  /**
   * Refuse as the rule would, but charge nothing (a trusted backend's own IP once its start moved to its user's). Its
   * state describes a charge that was not made: never refund it.
   */
  checkOnly?: boolean;
}

export interface LimitState {
  rule: LimitRule;
  /** Hits in the window, including this request when it was admitted. */
  count: number;
  remaining: number;
  /** When the oldest counted hit leaves the window (epoch ms). */
  resetAtMs: number;
  /** The bucket this request was charged to (for refunds). */
  bucket: number;
}

export interface LimitDecision {
  allowed: boolean;
  /** One per rule, in order; empty when Redis was unreachable and the decision failed open. */
  states: LimitState[];
  /** The exceeded rule, when not allowed: the first exceeded leading rule, else the one with the latest retry time. */
  denied?: { state: LimitState; retryAtMs: number };
  /** Redis was unreachable: nothing was counted (callers with a Postgres floor apply it). */
  unavailable?: true;
}

export interface ConsumeOptions {
  /**
   * The first `leading` rules are decided and charged on their own, before the others, and a refusal among them names
   * the first exceeded one (default 0: all-or-nothing, naming the rule that frees up last).
   */
  leading?: number;
}

/** The scripts as ioredis commands: EVALSHA, falling back to EVAL once per connection (the script is not resent). */
type ScriptedRedis = Redis & {
  pwlRateLimitConsume(numKeys: number, ...args: Array<string | number>): Promise<unknown>;
  pwlRateLimitRefund(numberOfKeys: number, ...keysAndArgs: Array<string | number>): Promise<unknown>;
  pwlBackoffGateClaim(key: string, nowMs: number, untilMs: number): Promise<number>;
};

/** Redis sliding-window counters shared by every API replica. Time comes from the caller (the app's Clock). */
@Injectable()
export class SlidingWindowStore {
  /** Logged once per outage (start and end), not per request. */
  private readonly outage = new OutageLog(
    new Logger(SlidingWindowStore.name),
    'Rate-limit storage (limits listed in RATE_LIMIT_POSTGRES_FALLBACK fall back to Postgres, the others do not limit)',
  );
  private readonly redis: ScriptedRedis;

  constructor(
    @Inject(REDIS) redis: Redis,
    private readonly config: AppConfig,
  ) {
    redis.defineCommand('pwlRateLimitConsume', { lua: CONSUME_SCRIPT });
    redis.defineCommand('pwlRateLimitRefund', { lua: REFUND_SCRIPT });
    redis.defineCommand('pwlBackoffGateClaim', { lua: CLAIM_GATE_SCRIPT, numberOfKeys: 1 });
    this.redis = redis as ScriptedRedis;
  }

  /** Charges every rule or none (two tiers with `options.leading`). Without Redis it allows the request, uncounted. */
  async consume(rules: LimitRule[], nowMs: number, options: ConsumeOptions = {}): Promise<LimitDecision> {
    const sizes = rules.map((rule) => bucketSize(rule.windowMs));
    const args = rules.flatMap((rule, i) => [rule.limit, sizes[i], (rule.checkOnly ? -1 : 1) * (rule.cost ?? 1)]);
    const keys = rules.map((r) => this.redisKey(r.key));
    const reply = await this.failOpen(null, () =>
      this.redis.pwlRateLimitConsume(
        keys.length,
        ...keys,
        Math.floor(nowMs),
        options.leading ?? 0,
        BUCKETS_PER_WINDOW,
        ...args,
      ),
    );
    if (reply === null) return { allowed: true, states: [], unavailable: true };
    const rows = reply as Array<[number, number, number] | number>;
    const denied = rows[rules.length] as number;
    const states = rules.map((rule, i): LimitState => {
      const [count, resetAtMs] = rows[i] as [number, number, number];
      return {
        rule,
        count,
        remaining: Math.max(0, rule.limit - count),
        resetAtMs,
        bucket: Math.floor(nowMs / sizes[i]),
      };
    });
    if (denied === 0) return { allowed: true, states };
    return {
      allowed: false,
      states,
      denied: { state: states[denied - 1], retryAtMs: (rows[denied - 1] as number[])[2] },
    };
  }

  /**
   * Undoes the hits the states charged, where their buckets are still counted, in one call. Best effort: a failure
   * only over-counts.
   */
  async refund(states: LimitState[]): Promise<void> {
    if (states.length === 0) return;
    const keys = states.map((state) => this.redisKey(state.rule.key));
    const args = states.flatMap((state) => [state.bucket, state.rule.cost ?? 1]);
    await this.failOpen(0, () => this.redis.pwlRateLimitRefund(keys.length, ...keys, ...args));
  }

  /** A value kept until `untilMs` (clock time), e.g. an open circuit breaker. Returns false if one was already set. */
  async setUntil(key: string, untilMs: number, nowMs: number): Promise<boolean> {
    return this.failOpen(
      false,
      async () =>
        (await this.redis.set(this.redisKey(key), String(untilMs), 'PX', Math.max(1, untilMs - nowMs), 'NX')) === 'OK',
    );
  }

  /**
   * Passes the gate `key` if it is open and closes it until `untilMs`; returns null, or when the closed gate opens.
   * Fails open (null) without Redis.
   */
  async claimGate(key: string, nowMs: number, untilMs: number): Promise<number | null> {
    const closedUntil = await this.failOpen(0, () =>
      this.redis.pwlBackoffGateClaim(this.redisKey(key), Math.floor(nowMs), Math.floor(untilMs)),
    );
    return closedUntil > 0 ? closedUntil : null;
  }

  /** The latest `untilMs` among `keys` that is still in the future, or null. Fails open (null) without Redis. */
  async activeUntil(keys: string[], nowMs: number): Promise<number | null> {
    const values = await this.failOpen([], () => this.redis.mget(...keys.map((k) => this.redisKey(k))));
    const active = values.map(Number).filter((until) => until > nowMs);
    return active.length > 0 ? Math.max(...active) : null;
  }

  async clear(keys: string[]): Promise<void> {
    await this.failOpen(0, () => this.redis.del(...keys.map((k) => this.redisKey(k))));
  }

  /** Every operation fails open: records and the outbox live in Postgres, so a Redis outage must not stop logins. */
  private async failOpen<T>(fallback: T, operation: () => Promise<T>): Promise<T> {
    try {
      const result = await operation();
      if (this.outage.down) {
        this.outage.recovered();
        metrics()?.limitStoreDown.set(0);
      }
      return result;
    } catch (err) {
      this.outage.failed(err);
      metrics()?.limitStoreFailures.inc();
      metrics()?.limitStoreDown.set(1);
      return fallback;
    }
  }

  private redisKey(key: string): string {
    return rateLimitKey(this.config.redis.prefix, key);
  }
}

/** The `{rl}` hash tag puts every limit key in one Redis Cluster slot, as a multi-key script requires. */
export const rateLimitKey = (prefix: string, key: string): string => `${prefix}:{rl}:${key}`;

/** Whole milliseconds per bucket; the effective window is rounded up to a multiple of the bucket count. */
function bucketSize(windowMs: number): number {
  return Math.max(1, Math.ceil(windowMs / BUCKETS_PER_WINDOW));
}
