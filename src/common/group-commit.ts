interface Waiter<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (err: unknown) => void;
}

/** What a flush returns: nothing, or (when callers want a result) one result per item, in the items' order. */
type FlushResults<R> = [R] extends [void] ? void : R[];

export interface GroupCommitOptions {
  /**
   * Errors after which each item of the failed batch is flushed again on its own, so that one bad item fails only
   * its own caller (default: none; the whole batch fails). `flush` must then be all-or-nothing (one transaction).
   */
  retryItemsAlone?: (err: unknown) => boolean;
}

/**
 * Group commit: one flush runs at a time; items submitted while it runs wait and go together in the next one. An idle
 * caller is flushed at once (no timer, no added latency); under load N callers cost one round trip. (One flush in
 * flight, not several: the batches are then as large as the load allows, and per-batch costs dominate small batches.)
 * Every caller's promise settles with its own item's outcome, and with its own item's result when the
 * flush returns them.
 */
export class GroupCommit<T, R = void> {
  private waiting: Array<Waiter<T, R>> = [];
  private flushing = false;

  private readonly retryItemsAlone: (err: unknown) => boolean;

  constructor(
    private readonly flush: (items: T[]) => Promise<FlushResults<R>>,
    private readonly maxBatch: number,
    options: GroupCommitOptions = {},
  ) {
    this.retryItemsAlone = options.retryItemsAlone ?? (() => false);
  }

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (!this.flushing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.flushing = true;
    while (this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.maxBatch);
      try {
        const results = await this.flushChecked(batch.map((w) => w.item));
        batch.forEach((w, i) => w.resolve(results[i]));
      } catch (err) {
        if (batch.length === 1 || !this.retryItemsAlone(err)) for (const w of batch) w.reject(err);
        // In parallel: with one flush in flight, everything submitted meanwhile waits for these retries.
        else
          await Promise.all(
            batch.map((w) => this.flushChecked([w.item]).then(([result]) => w.resolve(result), w.reject)),
          );
      }
    }
    this.flushing = false;
  }

  private async flushChecked(items: T[]): Promise<R[]> {
    const results = (await this.flush(items)) as R[] | undefined;
    if (results && results.length !== items.length)
      throw new Error(`group commit: ${results.length} results for ${items.length} items`);
    return results ?? [];
  }
}
