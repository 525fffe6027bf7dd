import { GroupCommit } from './group-commit';

describe(GroupCommit.name, () => {
  it('should flush an idle caller at once and group the callers that arrive during a flush', async () => {
    const batches: number[][] = [];
    let release!: () => void;
    const firstFlushDone = new Promise<void>((resolve) => (release = resolve));
    const sut = new GroupCommit<number>(async (items) => {
      batches.push(items);
      if (batches.length === 1) await firstFlushDone;
    }, 10);

    const first = sut.submit(1);
    const rest = [2, 3, 4].map((n) => sut.submit(n));
    expect(batches).toEqual([[1]]);
    release();
    await Promise.all([first, ...rest]);
    expect(batches).toEqual([[1], [2, 3, 4]]);
  });

  it('should split at the batch size and, after an item-specific error, retry the items one by one so only the bad one fails', async () => {
    const batches: number[][] = [];
    const boom = Object.assign(new Error('boom'), { itemSpecific: true });
    const sut = new GroupCommit<number>(
      (items) => {
        batches.push(items);
        return items.includes(4) ? Promise.reject(boom) : Promise.resolve();
      },
      2,
      { retryItemsAlone: (err) => (err as { itemSpecific?: boolean }).itemSpecific === true },
    );

    const results = await Promise.allSettled([1, 2, 3, 4, 5].map((n) => sut.submit(n)));
    expect(batches).toEqual([[1], [2, 3], [4, 5], [4], [5]]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((results[3] as PromiseRejectedResult).reason).toBe(boom);
  });

  it('should fail the whole batch without replaying it after any other error (e.g. the database is down)', async () => {
    const batches: number[][] = [];
    const sut = new GroupCommit<number>(
      (items) => {
        batches.push(items);
        return items.length > 1 ? Promise.reject(new Error('connection refused')) : Promise.resolve();
      },
      10,
      { retryItemsAlone: () => false },
    );

    const first = sut.submit(1);
    const rest = [2, 3].map((n) => sut.submit(n));
    await first;
    const results = await Promise.allSettled(rest);
    expect(batches).toEqual([[1], [2, 3]]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });

  it("should give each caller its own item's result", async () => {
    const sut = new GroupCommit<number, string>((items) => Promise.resolve(items.map((n) => `r${n}`)), 10);

    await expect(Promise.all([1, 2, 3].map((n) => sut.submit(n)))).resolves.toEqual(['r1', 'r2', 'r3']);
  });

  it('should fail the callers when the flush returns a result count that does not match its items', async () => {
    const sut = new GroupCommit<number, string>(() => Promise.resolve([]), 10);

    const results = await Promise.allSettled([1, 2, 3].map((n) => sut.submit(n)));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect((results[1] as PromiseRejectedResult).reason).toEqual(new Error('group commit: 0 results for 2 items'));
  });
});
