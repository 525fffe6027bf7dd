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

  it('should split at the batch size and, when a batch fails, retry its items one by one so only the bad one fails', async () => {
    const batches: number[][] = [];
    const sut = new GroupCommit<number>((items) => {
      batches.push(items);
      return items.includes(4) ? Promise.reject(new Error('boom')) : Promise.resolve();
    }, 2);

    const results = await Promise.allSettled([1, 2, 3, 4, 5].map((n) => sut.submit(n)));
    expect(batches).toEqual([[1], [2, 3], [4, 5], [4], [5]]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((results[3] as PromiseRejectedResult).reason).toEqual(new Error('boom'));
  });

  it('should run up to maxFlushes batches at once and group the callers that arrive while all are busy', async () => {
    const batches: number[][] = [];
    const releases: Array<() => void> = [];
    const sut = new GroupCommit<number>((items) => {
      batches.push(items);
      return new Promise<void>((resolve) => releases.push(resolve));
    }, 10, 2);

    const submitted = [1, 2, 3, 4].map((n) => sut.submit(n));
    expect(batches).toEqual([[1], [2]]);
    releases[0]();
    await submitted[0];
    expect(batches).toEqual([[1], [2], [3, 4]]);
    releases[1]();
    releases[2]();
    await Promise.all(submitted);
  });
});
