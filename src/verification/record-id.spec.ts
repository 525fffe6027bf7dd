import { RandomSource } from '../common/random.source';
import { newRecordId } from './record-id';

describe('newRecordId', () => {
  const random = new RandomSource();

  it("should keep Auth0's 24-hex _id shape and carry its creation time", () => {
    const now = new Date('2026-12-06T18:30:00.123Z');
    const id = newRecordId(now, random);
    expect(id).toMatch(/^[0-9a-f]{24}$/);
    expect(parseInt(id.slice(0, 12), 16)).toBe(now.getTime());
  });

  it('should sort by creation time, and stay unique within one millisecond', () => {
    const times = [0, 1, 2, 1000, 86_400_000].map((ms) => new Date(1_796_000_000_000 + ms));
    const ids = times.map((time) => newRecordId(time, random));
    expect([...ids].sort()).toEqual(ids);
    const sameMs = Array.from({ length: 5000 }, () => newRecordId(times[0], random));
    expect(new Set(sameMs).size).toBe(5000);
  });
});
