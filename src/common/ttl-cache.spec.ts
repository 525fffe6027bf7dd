import { TtlCache } from './ttl-cache';

describe(TtlCache.name, () => {
  let now: number;
  let loads: number;
  const load = (value: string | null) => () => {
    loads++;
    return Promise.resolve(value);
  };

  beforeEach(() => {
    now = 1_000;
    loads = 0;
  });

  it('should reuse a found value until the TTL has passed', async () => {
    const sut = new TtlCache<string>(100, 10, () => now);
    expect(await sut.get('a', load('one'))).toBe('one');
    now += 99;
    expect(await sut.get('a', load('two'))).toBe('one');
    now += 1;
    expect(await sut.get('a', load('two'))).toBe('two');
    expect(loads).toBe(2);
  });

  it('should share one load between concurrent misses', async () => {
    const sut = new TtlCache<string>(100, 10, () => now);
    expect(await Promise.all([sut.get('a', load('one')), sut.get('a', load('one'))])).toEqual(['one', 'one']);
    expect(loads).toBe(1);
  });

  it('should not cache a miss or a failure', async () => {
    const sut = new TtlCache<string>(100, 10, () => now);
    expect(await sut.get('a', load(null))).toBeNull();
    await expect(sut.get('b', () => Promise.reject(new Error('db down')))).rejects.toThrow('db down');
    expect(await sut.get('a', load('found'))).toBe('found');
    expect(await sut.get('b', load('back'))).toBe('back');
  });

  it('should drop the oldest entry when full', async () => {
    const sut = new TtlCache<string>(100, 2, () => now);
    await sut.get('a', load('a'));
    await sut.get('b', load('b'));
    await sut.get('c', load('c'));
    expect(await sut.get('a', load('a2'))).toBe('a2');
    expect(await sut.get('c', load('c2'))).toBe('c');
  });

  it('should read through every time with a TTL of 0', async () => {
    const sut = new TtlCache<string>(0, 10, () => now);
    await sut.get('a', load('one'));
    expect(await sut.get('a', load('two'))).toBe('two');
  });
});
