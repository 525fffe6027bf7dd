import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { OutageLog } from '../common/outage-log';
import { AppConfig } from '../config/app-config';
import { REDIS } from '../redis/redis.module';

/** A window is split into this many buckets: counts are exact to 1/60 of the window (1 minute of an hour). */
const BUCKETS_PER_WINDOW = 60;

/**
 * One Lua call checks every rule and, only if none is exceeded, charges all of them: all-or-nothing and atomic, so
 * concurrent requests on any number of API replicas can never overshoot a limit, and a rejected request costs nothing.
 * Each rule is a hash of bucket index -> hits; buckets older than the window are dropped as they are read.
 * A busy key holds up to 60 buckets, so the hash also caches their sum ('-1'), the bucket it was summed in ('-2') and
 * the oldest live bucket ('-3'): only the first call in a new bucket reads them all (dropping the expired ones), the
 * rest read three fields. The cache fields are negative so that a replica still running the previous script (during
 * a rolling deploy) drops them as expired buckets, which makes the next call recount.
 * Two tiers: the first `leading` rules are decided and charged on their own (a refusal among them charges nothing), the
 * others all-or-nothing after them, so a refusal among those leaves the leading ones charged. Between the tiers an
 * optional key is set if absent (SET NX PX, e.g. a client assertion's jti): if it was there, the others are not
 * charged.
 * KEYS: one hash per rule, then the optional once-key. ARGV: now (ms), leading, once-key TTL (ms, 0 = no once-key),
 * then per rule: limit (0 = count only), bucket size (ms), cost (0 = read only, negative = check only).
 * Returns, per rule: hits after the call, when the oldest counted hit leaves the window, and (if exceeded) the
 * earliest time enough hits will have left for this request to fit; then the index of the exceeded rule that decided
 * the call (0 = none), then 1 if the once-key was already set.
 */
const CONSUME_SCRIPT = `
local now, leading, onceTtl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local buckets = ${BUCKETS_PER_WINDOW}
local rules = onceTtl > 0 and #KEYS - 1 or #KEYS
local out = {}
-- The exceeded rule that answers, per tier.
local denied, deniedAt = { 0, 0 }, { 0, 0 }
for i = 1, rules do
  local o = 3 + (i - 1) * 3
  -- A negative cost checks that many hits would fit and charges none (see LimitRule.checkOnly).
  local limit, size, cost = tonumber(ARGV[o + 1]), tonumber(ARGV[o + 2]), math.abs(tonumber(ARGV[o + 3]))
  local current = math.floor(now / size)
  local cached = redis.call('HMGET', KEYS[i], '-1', '-2', '-3')
  local total, oldest
  if tonumber(cached[2]) == current then
    total, oldest = tonumber(cached[1]), tonumber(cached[3])
  else
    total, oldest = 0, current
    local raw = redis.call('HGETALL', KEYS[i])
    for j = 1, #raw, 2 do
      local b = tonumber(raw[j])
      if b < 0 then -- a cache field
      elseif b <= current - buckets then
        redis.call('HDEL', KEYS[i], raw[j])
      else
        total = total + tonumber(raw[j + 1])
        if b < oldest then oldest = b end
      end
    end
    -- Only a key that still counts hits keeps the cache (HSET keeps its TTL; an empty key is not created).
    if total > 0 then
      redis.call('HSET', KEYS[i], '-1', total, '-2', current, '-3', oldest)
    elseif #raw > 0 then
      redis.call('DEL', KEYS[i])
    end
  end
  local reset = (oldest + buckets) * size
  local retry = 0
  if limit > 0 and cost > 0 and total + cost > limit then
    -- Only a refusal needs the buckets in order (a hot key holds up to 60 of them): oldest first until enough leave.
    local raw, live = redis.call('HGETALL', KEYS[i]), {}
    for j = 1, #raw, 2 do
      local b = tonumber(raw[j])
      if b > current - buckets then live[#live + 1] = { b, tonumber(raw[j + 1]) } end
    end
    table.sort(live, function(a, b) return a[1] < b[1] end)
    local need, freed = total + cost - limit, 0
    retry = (current + buckets) * size
    for _, entry in ipairs(live) do
      freed = freed + entry[2]
      if freed >= need then retry = (entry[1] + buckets) * size break end
    end
    -- The leading rules answer in order (the first exceeded one, as separate calls would have); the others with the
    -- latest retry time.
    if i <= leading then
      if denied[1] == 0 then denied[1], deniedAt[1] = i, retry end
    elseif retry > deniedAt[2] then
      denied[2], deniedAt[2] = i, retry
    end
  end
  out[#out + 1] = { total, reset, retry }
end
local function charge(from, to)
  for i = from, to do
    local o = 3 + (i - 1) * 3
    local size, cost = tonumber(ARGV[o + 2]), tonumber(ARGV[o + 3])
    if cost > 0 then
      redis.call('HINCRBY', KEYS[i], string.format('%d', math.floor(now / size)), cost)
      redis.call('HINCRBY', KEYS[i], '-1', cost)
      redis.call('PEXPIRE', KEYS[i], size * (buckets + 1))
      out[i][1] = out[i][1] + cost
    end
  end
end
local repeated = 0
if denied[1] ~= 0 then
  out[#out + 1] = denied[1]
else
  charge(1, leading)
  if onceTtl > 0 and not redis.call('SET', KEYS[#KEYS], '1', 'PX', onceTtl, 'NX') then
    repeated = 1
  elseif denied[2] == 0 then
    charge(leading + 1, rules)
  end
  out[#out + 1] = repeated == 1 and 0 or denied[2]
end
out[#out + 1] = repeated
return out
`;

/**
 * Gives back hits charged to one bucket (e.g. an OTP attempt that turned out to be right); never below zero. The
 * cached sum follows when present (a refund by a previous version's script is recounted with the next bucket).
 */
const REFUND_SCRIPT = `
local hits = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if hits <= 0 then return 0 end
local refunded = math.min(hits, tonumber(ARGV[2]))
if redis.call('HEXISTS', KEYS[1], '-1') == 1 then redis.call('HINCRBY', KEYS[1], '-1', -refunded) end
return redis.call('HINCRBY', KEYS[1], ARGV[1], -refunded)
`;

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
  /** The once-key was already set: only the leading rules were charged. */
  repeated?: boolean;
}

export interface ConsumeOptions {
  /** The first `leading` rules are charged on their own, before the others are decided (default 0: all-or-nothing). */
  leading?: number;
  /**
   * A key (a full Redis key, not below the `{rl}` tag) set with this TTL if absent, after the leading rules admitted
   * the call; if it was already set, the others are not charged. Without Redis the call then fails instead of failing
   * open: a once-key that cannot be checked must not be taken as new. (The jti keys keep their name, so that replicas
   * of the previous version see the same marks during a rolling deploy; on a single Redis node, as the service
   * connects, one script may use keys of any slot, whereas Redis Cluster would need them under the `{rl}` tag too.)
   */
  once?: { redisKey: string; ttlMs: number };
}

/** The scripts as ioredis commands: EVALSHA, falling back to EVAL once per connection (the script is not resent). */
type ScriptedRedis = Redis & {
  pwlRateLimitConsume(numKeys: number, ...args: Array<string | number>): Promise<unknown>;
  pwlRateLimitRefund(key: string, bucket: number, cost: number): Promise<unknown>;
};

/** Redis sliding-window counters shared by every API replica. Time comes from the caller (the app's Clock). */
@Injectable()
export class SlidingWindowStore {
  /** Logged once per outage (start and end), not per request. */
  private readonly outage = new OutageLog(new Logger(SlidingWindowStore.name), 'Rate-limit storage (not limiting)');
  private readonly redis: ScriptedRedis;

  constructor(
    @Inject(REDIS) redis: Redis,
    private readonly config: AppConfig,
  ) {
    redis.defineCommand('pwlRateLimitConsume', { lua: CONSUME_SCRIPT });
    redis.defineCommand('pwlRateLimitRefund', { lua: REFUND_SCRIPT, numberOfKeys: 1 });
    this.redis = redis as ScriptedRedis;
  }

  /**
   * Charges every rule or none (in two tiers with `options.leading`, see ConsumeOptions). Without Redis it allows the
   * request with no states (requests go uncounted), unless a once-key was given.
   */
  async consume(rules: LimitRule[], nowMs: number, options: ConsumeOptions = {}): Promise<LimitDecision> {
    const sizes = rules.map((rule) => bucketSize(rule.windowMs));
    const args = rules.flatMap((rule, i) => [rule.limit, sizes[i], (rule.checkOnly ? -1 : 1) * (rule.cost ?? 1)]);
    const keys = rules.map((r) => this.redisKey(r.key));
    const { once } = options;
    if (once) keys.push(once.redisKey);
    const call = () =>
      this.redis.pwlRateLimitConsume(
        keys.length,
        ...keys,
        Math.floor(nowMs),
        options.leading ?? 0,
        once ? Math.max(1, Math.ceil(once.ttlMs)) : 0,
        ...args,
      );
    const reply = once ? await call() : await this.failOpen(null, call);
    if (reply === null) return { allowed: true, states: [] };
    const rows = reply as Array<[number, number, number] | number>;
    const denied = rows[rules.length] as number;
    const repeated = rows[rules.length + 1] === 1;
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
    if (denied === 0) return { allowed: !repeated, states, repeated };
    return {
      allowed: false,
      states,
      denied: { state: states[denied - 1], retryAtMs: (rows[denied - 1] as number[])[2] },
      repeated,
    };
  }

  /** Undoes the hits a state charged, if its bucket is still counted. Best effort: a failure only over-counts. */
  async refund(state: LimitState): Promise<void> {
    await this.failOpen(0, () =>
      this.redis.pwlRateLimitRefund(this.redisKey(state.rule.key), state.bucket, state.rule.cost ?? 1),
    );
  }

  /** A value kept until `untilMs` (clock time), e.g. an open circuit breaker. Returns false if one was already set. */
  async setUntil(key: string, untilMs: number, nowMs: number): Promise<boolean> {
    return this.failOpen(
      false,
      async () =>
        (await this.redis.set(this.redisKey(key), String(untilMs), 'PX', Math.max(1, untilMs - nowMs), 'NX')) === 'OK',
    );
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
      if (this.outage.down) this.outage.recovered();
      return result;
    } catch (err) {
      this.outage.failed(err);
      return fallback;
    }
  }

  /** The `{rl}` hash tag puts every limit key in one Redis Cluster slot, as a multi-key script requires. */
  private redisKey(key: string): string {
    return `${this.config.redis.prefix}:{rl}:${key}`;
  }
}

/** Whole milliseconds per bucket; the effective window is rounded up to a multiple of the bucket count. */
function bucketSize(windowMs: number): number {
  return Math.max(1, Math.ceil(windowMs / BUCKETS_PER_WINDOW));
}
