interface Waiter<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (err: unknown) => void;
}

/** What a flush returns: nothing, or (when callers want a result) one result per item, in the items' order. */
type FlushResults<R> = [R] extends [void] ? void : R[];

/**
 * Group commit: at most one `flush` runs at a time; items submitted meanwhile wait and go together in the next one.
 * An idle caller is flushed at once (no timer, no added latency); under load N callers cost one round trip. Every
 * caller's promise settles with its own batch's outcome, and with its own item's result when the flush returns them.
 */
export class GroupCommit<T, R = void> {
  private waiting: Array<Waiter<T, R>> = [];
  private flushing = false;

  constructor(
    private readonly flush: (items: T[]) => Promise<FlushResults<R>>,
    private readonly maxBatch: number,
  ) {}

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
        const results = (await this.flush(batch.map((w) => w.item))) as R[] | undefined;
        if (results && results.length !== batch.length) throw new Error(`group commit: ${results.length} results for ${batch.length} items`);
        batch.forEach((w, i) => w.resolve(results?.[i] as R));
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
    this.flushing = false;
  }
}
