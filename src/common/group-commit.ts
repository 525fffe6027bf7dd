interface Waiter<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (err: unknown) => void;
}

/** What a flush returns: nothing, or (when callers want a result) one result per item, in the items' order. */
type FlushResults<R> = [R] extends [void] ? void : R[];

export interface GroupCommitOptions {
  /** Batches in flight at once (default 1). */
  maxFlushes?: number;
  /**
   * Errors after which each item of the failed batch is flushed again on its own, so that one bad item fails only
   * its own caller (default: none; the whole batch fails). `flush` must then be all-or-nothing (one transaction).
   */
  retryItemsAlone?: (err: unknown) => boolean;
}

/**
 * Group commit: at most `maxFlushes` flushes run at a time; items submitted while all are busy wait and go together in
 * the next free one. An idle caller is flushed at once (no timer, no added latency); under load N callers cost one
 * round trip. Every caller's promise settles with its own item's outcome, and with its own item's result when the
 * flush returns them.
 */
export class GroupCommit<T, R = void> {
  private waiting: Array<Waiter<T, R>> = [];
  private flushes = 0;

  private readonly maxFlushes: number;
  private readonly retryItemsAlone: (err: unknown) => boolean;

  constructor(
    private readonly flush: (items: T[]) => Promise<FlushResults<R>>,
    private readonly maxBatch: number,
    options: GroupCommitOptions = {},
  ) {
    this.maxFlushes = options.maxFlushes ?? 1;
    this.retryItemsAlone = options.retryItemsAlone ?? (() => false);
  }

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (this.flushes < this.maxFlushes) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.flushes++;
    while (this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.maxBatch);
      try {
        const results = await this.flushChecked(batch.map((w) => w.item));
        batch.forEach((w, i) => w.resolve(results[i]));
      } catch (err) {
        if (batch.length === 1 || !this.retryItemsAlone(err)) for (const w of batch) w.reject(err);
        else for (const w of batch) await this.flushChecked([w.item]).then(([result]) => w.resolve(result), w.reject);
      }
    }
    this.flushes--;
  }

  private async flushChecked(items: T[]): Promise<R[]> {
    const results = (await this.flush(items)) as R[] | undefined;
    if (results && results.length !== items.length) throw new Error(`group commit: ${results.length} results for ${items.length} items`);
    return results ?? [];
  }
}
