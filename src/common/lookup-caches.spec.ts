import type { AppConfig } from '../config/app-config';
import { LookupCaches } from './lookup-caches';

describe(LookupCaches.name, () => {
  let now: number;
  let loads: string[];
  let values: Map<string, string | Promise<string>>;

  const cacheWithTtl = (lookupCacheTtlMs: number) => {
    const clock = { now: () => new Date(now) };
    return new LookupCaches({ lookupCacheTtlMs } as AppConfig, clock).create<{ value: string }>(async (key) => {
      loads.push(key);
      const value = await values.get(key);
      return value === undefined ? null : { value };
    });
  };
  const valueOf = async (cache: ReturnType<typeof cacheWithTtl>, key: string) => (await cache.get(key))?.value ?? null;

  beforeEach(() => {
    now = 1_000;
    loads = [];
    values = new Map();
  });

  it('should reuse a found value until the TTL has passed', async () => {
    const sut = cacheWithTtl(100);
    values.set('a', 'one');
    expect(await valueOf(sut, 'a')).toBe('one');
    values.set('a', 'two');
    now += 100;
    expect(await valueOf(sut, 'a')).toBe('one');
    now += 1;
    expect(await valueOf(sut, 'a')).toBe('two');
    expect(loads).toEqual(['a', 'a']);
  });

  it('should share one load between concurrent misses', async () => {
    const sut = cacheWithTtl(100);
    let resolve!: (value: string) => void;
    values.set('a', new Promise((r) => (resolve = r)));
    const both = Promise.all([valueOf(sut, 'a'), valueOf(sut, 'a')]);
    resolve('one');
    expect(await both).toEqual(['one', 'one']);
    expect(loads).toEqual(['a']);
  });

  it('should not cache a miss or a failure', async () => {
    const sut = cacheWithTtl(100);
    expect(await valueOf(sut, 'a')).toBeNull();
    values.set('b', Promise.reject(new Error('db down')));
    await expect(valueOf(sut, 'b')).rejects.toThrow('db down');
    values.set('a', 'found');
    values.set('b', 'back');
    expect(await valueOf(sut, 'a')).toBe('found');
    expect(await valueOf(sut, 'b')).toBe('back');
  });

  it('should read through every time with a TTL of 0', async () => {
    const sut = cacheWithTtl(0);
    values.set('a', 'one');
    await valueOf(sut, 'a');
    values.set('a', 'two');
    expect(await valueOf(sut, 'a')).toBe('two');
    expect(loads).toEqual(['a', 'a']);
  });
});
