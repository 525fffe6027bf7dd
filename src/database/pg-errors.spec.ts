import { isItemSpecificDbError, isTimedOutDbError } from './pg-errors';

describe(isItemSpecificDbError.name, () => {
  it.each([
    ['23505', true], // unique violation
    ['22P02', true], // invalid text representation
    ['40P01', true], // deadlock detected
    ['40001', true], // serialization failure
    ['57P01', false], // admin shutdown
    ['08006', false], // connection failure
    ['53300', false], // too many connections
  ])('should classify SQLSTATE %s as item-specific: %s', (code, expected) => {
    expect(isItemSpecificDbError(Object.assign(new Error('x'), { code }))).toBe(expected);
  });

  it('should not treat errors without a SQLSTATE (timeouts, socket errors) as item-specific', () => {
    expect(isItemSpecificDbError(new Error('Connection terminated unexpectedly'))).toBe(false);
    expect(isItemSpecificDbError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toBe(false);
    expect(isItemSpecificDbError(null)).toBe(false);
  });
});

describe(isTimedOutDbError.name, () => {
  it('should take a lock timeout and a statement timeout for waiting, and nothing else', () => {
    expect(isTimedOutDbError({ code: '55P03' })).toBe(true);
    expect(isTimedOutDbError({ code: '57014' })).toBe(true);
    for (const other of [{ code: '40P01' }, { code: '08006' }, new Error('timeout'), null, undefined])
      expect(isTimedOutDbError(other)).toBe(false);
  });
});
