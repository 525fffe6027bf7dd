import { Inject, Injectable, Logger } from '@nestjs/common';
import calculateSlot from 'cluster-key-slot';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OutageLog } from '../common/outage-log';
import { metrics } from '../observability/metrics';
import { AppConfig } from '../config/app-config';
import { REDIS } from '../redis/redis.module';
import type { RedisClient } from '../redis/redis-connection';

/** A window is split into this many buckets: counts are exact to 1/60 of the window (1 minute of an hour). */
const BUCKETS_PER_WINDOW = 60;

/** Loaded once at boot; nest-cli.json copies the .lua files next to the compiled store. */
const CONSUME_SCRIPT = readFileSync(join(__dirname, 'sliding-window.consume.lua'), 'utf8');
const REFUND_SCRIPT = readFileSync(join(__dirname, 'sliding-window.refund.lua'), 'utf8');
const CLAIM_GATE_SCRIPT = readFileSync(join(__dirname, 'backoff-gate.claim.lua'), 'utf8');

export interface LimitRule {
  /** Shown in logs: `start-ip`, `sms-prefix`, ... */
  name: string;
  /** The subject part of the key: `<REDIS_PREFIX>:rl:{<key>}`. */
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

/** A rule's answer from the consume script: hits after the call, when the oldest leaves, when the request would fit. */
type Row = [count: number, resetAtMs: number, retryAtMs: number];

/** The scripts as ioredis commands: EVALSHA, falling back to EVAL once per connection (the script is not resent). */
type ScriptedRedis = RedisClient & {
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
    @Inject(REDIS) redis: RedisClient,
    private readonly config: AppConfig,
  ) {
    redis.defineCommand('pwlRateLimitConsume', { lua: CONSUME_SCRIPT });
    redis.defineCommand('pwlRateLimitRefund', { lua: REFUND_SCRIPT });
    redis.defineCommand('pwlBackoffGateClaim', { lua: CLAIM_GATE_SCRIPT, numberOfKeys: 1 });
    this.redis = redis as ScriptedRedis;
  }

  /**
   * Charges every rule or none (two tiers with `options.leading`). Without Redis it allows the request, uncounted.
   * Rules whose keys share a hash slot (every rule on a single Redis) are decided in one script call; across the slots
   * of a Redis Cluster see `consumeAcrossSlots`.
   */
  async consume(rules: LimitRule[], nowMs: number, options: ConsumeOptions = {}): Promise<LimitDecision> {
    const leading = options.leading ?? 0;
    const all = rules.map((_, i) => i);
    if (this.slotGroups(rules, all).length <= 1) {
      const reply = await this.failOpen(null, () => this.evaluate(rules, all, nowMs, leading, 'charge'));
      if (reply === null) return { allowed: true, states: [], unavailable: true };
      return decision(rules, reply.rows, reply.denied, nowMs);
    }
    return this.consumeAcrossSlots(rules, nowMs, leading);
  }

  /**
   * The charge protocol across Cluster slots, which one script cannot span. Each tier (the leading rules, then the
   * others) is charged one slot at a time in ascending slot order, each call all-or-nothing for its slot; when a slot
   * refuses, the slots already charged are refunded and the remaining ones are only checked, so the refusal names the
   * same rule a single call would. A count never passes its limit (each charge checks it atomically) and a refused
   * request keeps nothing; a refusal's refund can briefly make a concurrent request see a count one too high.
   */
  private async consumeAcrossSlots(rules: LimitRule[], nowMs: number, leading: number): Promise<LimitDecision> {
    const rows: Row[] = [];
    const tiers = [
      { indices: rules.slice(0, leading).map((_, i) => i), first: true },
      { indices: rules.slice(leading).map((_, i) => leading + i), first: false },
    ];
    const outcome = await this.failOpen(null, async () => {
      for (const [t, tier] of tiers.entries()) {
        const groups = this.slotGroups(rules, tier.indices);
        const charged: number[] = [];
        for (const [g, group] of groups.entries()) {
          const reply = await this.evaluate(rules, group, nowMs, 0, 'charge');
          group.forEach((ruleIndex, k) => (rows[ruleIndex] = reply.rows[k]));
          if (reply.denied === 0) {
            charged.push(...group);
            continue;
          }
          // Only rules that were charged go back (check-only and read-only ones were not).
          const refunded = charged.filter((i) => !rules[i].checkOnly && (rules[i].cost ?? 1) > 0);
          await this.refundCharges(refunded.map((i) => ({ rule: rules[i], bucket: bucketOf(rules[i], nowMs) })));
          for (const ruleIndex of refunded) rows[ruleIndex][0] -= rules[ruleIndex].cost ?? 1;
          for (const later of [
            ...groups.slice(g + 1),
            ...tiers.slice(t + 1).flatMap((next) => this.slotGroups(rules, next.indices)),
          ]) {
            const checked = await this.evaluate(rules, later, nowMs, 0, 'check');
            later.forEach((ruleIndex, k) => (rows[ruleIndex] = checked.rows[k]));
          }
          const exceeded = tier.indices.filter((i) => rows[i][2] > 0);
          const chosen = tier.first ? exceeded[0] : exceeded.reduce((a, b) => (rows[b][2] > rows[a][2] ? b : a));
          return chosen + 1;
        }
      }
      return 0;
    });
    if (outcome === null) return { allowed: true, states: [], unavailable: true };
    return decision(rules, rows, outcome, nowMs);
  }

  /**
   * Undoes the hits the states charged, where their buckets are still counted, in one call per hash slot. Best effort:
   * a failure only over-counts.
   */
  async refund(states: LimitState[]): Promise<void> {
    if (states.length === 0) return;
    await this.failOpen(0, () => this.refundCharges(states).then(() => 0));
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
    const redisKeys = keys.map((k) => this.redisKey(k));
    // MGET needs its keys in one slot; on a Cluster each key is read on its own node.
    const values = await this.failOpen([], () =>
      this.redis.isCluster ? Promise.all(redisKeys.map((key) => this.redis.get(key))) : this.redis.mget(...redisKeys),
    );
    const active = values.map(Number).filter((until) => until > nowMs);
    return active.length > 0 ? Math.max(...active) : null;
  }

  async clear(keys: string[]): Promise<void> {
    const redisKeys = keys.map((k) => this.redisKey(k));
    await this.failOpen(0, async () =>
      this.redis.isCluster
        ? (await Promise.all(redisKeys.map((key) => this.redis.del(key)))).length
        : this.redis.del(...redisKeys),
    );
  }

  /**
   * One script call over `indices` (keys in one hash slot): `charge` as the rules say, or `check` (refuse as they would
   * but charge nothing). Rows are in `indices` order; `denied` is 1-based within them (0: none).
   */
  private async evaluate(
    rules: LimitRule[],
    indices: number[],
    nowMs: number,
    leading: number,
    mode: 'charge' | 'check',
  ): Promise<{ rows: Row[]; denied: number }> {
    const cost = (rule: LimitRule) => (rule.checkOnly || mode === 'check' ? -1 : 1) * (rule.cost ?? 1);
    const args = indices.flatMap((i) => [rules[i].limit, bucketSize(rules[i].windowMs), cost(rules[i])]);
    const keys = indices.map((i) => this.redisKey(rules[i].key));
    const reply = (await this.redis.pwlRateLimitConsume(
      keys.length,
      ...keys,
      Math.floor(nowMs),
      leading,
      BUCKETS_PER_WINDOW,
      ...args,
    )) as Array<Row | number>;
    return { rows: reply.slice(0, indices.length) as Row[], denied: reply[indices.length] as number };
  }

  /** Gives back one hit (or the rule's cost) in each charge's bucket, one script call per hash slot. */
  private async refundCharges(charges: Array<Pick<LimitState, 'rule' | 'bucket'>>): Promise<void> {
    const rules = charges.map((charge) => charge.rule);
    for (const group of this.slotGroups(
      rules,
      charges.map((_, i) => i),
    )) {
      const keys = group.map((i) => this.redisKey(rules[i].key));
      const args = group.flatMap((i) => [charges[i].bucket, rules[i].cost ?? 1]);
      await this.redis.pwlRateLimitRefund(keys.length, ...keys, ...args);
    }
  }

  /** The rules at `indices` grouped by their keys' hash slot (one group on a single Redis), in ascending slot order. */
  private slotGroups(rules: LimitRule[], indices: number[]): number[][] {
    if (indices.length === 0) return [];
    if (!this.redis.isCluster) return [indices];
    const bySlot = new Map<number, number[]>();
    for (const i of indices) {
      const slot = calculateSlot(this.redisKey(rules[i].key));
      bySlot.set(slot, [...(bySlot.get(slot) ?? []), i]);
    }
    return [...bySlot].sort((a, b) => a[0] - b[0]).map(([, group]) => group);
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

/**
 * A limit's key, hash-tagged by its subject (an IP, an identifier, a client, a country...), so that on a Redis Cluster
 * limits spread over the shards instead of loading one.
 */
export const rateLimitKey = (prefix: string, key: string): string => `${prefix}:rl:{${key}}`;

/** The decision from every rule's row, in rule order, and the 1-based index of the rule that refused (0: none). */
function decision(rules: LimitRule[], rows: Row[], denied: number, nowMs: number): LimitDecision {
  const states = rules.map((rule, i): LimitState => ({
    rule,
    count: rows[i][0],
    remaining: Math.max(0, rule.limit - rows[i][0]),
    resetAtMs: rows[i][1],
    bucket: bucketOf(rule, nowMs),
  }));
  if (denied === 0) return { allowed: true, states };
  return { allowed: false, states, denied: { state: states[denied - 1], retryAtMs: rows[denied - 1][2] } };
}

/** The bucket a hit at `nowMs` is counted in. */
const bucketOf = (rule: LimitRule, nowMs: number): number => Math.floor(nowMs / bucketSize(rule.windowMs));

/** Whole milliseconds per bucket; the effective window is rounded up to a multiple of the bucket count. */
function bucketSize(windowMs: number): number {
  return Math.max(1, Math.ceil(windowMs / BUCKETS_PER_WINDOW));
}
