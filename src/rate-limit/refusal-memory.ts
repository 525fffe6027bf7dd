import type { LimitDecision, LimitRule } from './sliding-window.store';

type Refusal = NonNullable<LimitDecision['denied']>;

/** Bounds the refusals remembered per process (one entry per refused key and limit). */
const MAX_REMEMBERED_REFUSALS = 10_000;
/** A refusal is remembered until its retry time, at most this long, so an operator's reset of a key takes effect. */
const MAX_REFUSAL_MEMORY_MS = 60_000;

/**
 * Refusals this process gave, until their retry time: a rule that refused is refused again without asking Redis.
 * Exact only for rules whose count cannot drop before the retry time, i.e. that are never refunded (hits leave the
 * window only with their bucket).
 */
export class RefusalMemory {
  private readonly refusals = new Map<string, { refusal: Refusal; forgetAtMs: number }>();

  recall(rule: LimitRule, nowMs: number): Refusal | undefined {
    const key = refusalKey(rule);
    const remembered = this.refusals.get(key);
    if (!remembered) return undefined;
    if (remembered.forgetAtMs > nowMs) return remembered.refusal;
    this.refusals.delete(key);
    return undefined;
  }

  remember(refusal: Refusal, nowMs: number): void {
    const key = refusalKey(refusal.state.rule);
    this.refusals.delete(key);
    if (this.refusals.size >= MAX_REMEMBERED_REFUSALS) this.refusals.delete(this.refusals.keys().next().value!);
    this.refusals.set(key, { refusal, forgetAtMs: Math.min(refusal.retryAtMs, nowMs + MAX_REFUSAL_MEMORY_MS) });
  }
}

const refusalKey = (rule: LimitRule) => `${rule.key}|${rule.limit}|${rule.windowMs}`;
