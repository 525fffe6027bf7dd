import { RandomSource } from './random.source';

describe('RandomSource', () => {
  const random = new RandomSource();

  it('should give ids, tokens and digits of the requested size and alphabet', () => {
    expect(random.hex(12)).toMatch(/^[0-9a-f]{24}$/);
    expect(random.token(32)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(random.digits(6)).toMatch(/^\d{6}$/);
    expect(random.hex(5000)).toMatch(/^[0-9a-f]{10000}$/);
  });

  it('should never repeat an id', () => {
    const ids = Array.from({ length: 3000 }, () => random.hex(12));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('should draw every digit equally often (no modulo bias)', () => {
    // `byte % 10` favours 0-5 by 26/256 against 25/256: over 400,000 digits that gives chi-square ~150, far above
    // 45.5, the 9-degree-of-freedom value a uniform source exceeds once in a million runs.
    const counts = new Array<number>(10).fill(0);
    const digits = random.digits(400_000);
    for (let i = 0; i < digits.length; i++) counts[digits.charCodeAt(i) - 48]++;
    const expected = digits.length / 10;
    const chiSquare = counts.reduce((sum, n) => sum + (n - expected) ** 2 / expected, 0);
    expect(chiSquare).toBeLessThan(45.5);
  });
});
