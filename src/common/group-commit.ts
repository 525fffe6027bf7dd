interface Waiter<T> {
  item: T;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit: at most `maxFlushes` flushes run at a time; items submitted while all are busy wait and go together in
 * the next free one. An idle caller is flushed at once (no timer, no added latency); under load N callers cost one
 * round trip. `flush` must be all-or-nothing (one transaction): when a batch fails, each of its items is flushed again
 * on its own, so one bad item fails only its own caller and every caller's promise settles with its own item's outcome.
 */
export class GroupCommit<T> {
  private waiting: Array<Waiter<T>> = [];
  private flushes = 0;

  constructor(
    private readonly flush: (items: T[]) => Promise<void>,
    private readonly maxBatch: number,
    private readonly maxFlushes = 1,
  ) {}

  submit(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (this.flushes < this.maxFlushes) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.flushes++;
    while (this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.maxBatch);
      try {
        await this.flush(batch.map((w) => w.item));
        for (const w of batch) w.resolve();
      } catch (err) {
        if (batch.length === 1) batch[0].reject(err);
        else for (const w of batch) await this.flush([w.item]).then(w.resolve, w.reject);
      }
    }
    this.flushes--;
  }
}
