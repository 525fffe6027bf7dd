import { entropyPool, RandomSource } from './random.source';

describe('RandomSource and the entropy pool', () => {
  const random = new RandomSource();

  it('should give ids, tokens and digits of the requested size and alphabet', () => {
    expect(random.hex(12)).toMatch(/^[0-9a-f]{24}$/);
    expect(random.token(32)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(random.digits(6)).toMatch(/^\d{6}$/);
    expect(random.hex(5000)).toMatch(/^[0-9a-f]{10000}$/);
  });

  it('should never hand out the same bytes twice, across many refills of the pool', () => {
    // 3,000 draws of 12 bytes span nine 4 KiB refills and end at offsets that do not divide the pool evenly.
    const ids = Array.from({ length: 3000 }, (_, i) =>
      i % 3 === 0 ? entropyPool.buffer(12).toString('hex') : random.hex(12),
    );
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('should give buffers that keep their bytes when the pool is refilled', () => {
    const iv = entropyPool.buffer(12);
    const copy = Buffer.from(iv);
    for (let i = 0; i < 1000; i++) random.token(32);
    expect(iv.equals(copy)).toBe(true);
  });
});
