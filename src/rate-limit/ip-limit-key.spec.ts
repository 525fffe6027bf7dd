import { ipLimitKey } from './ip-limit-key';

describe(ipLimitKey.name, () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['2001:db8:0:12::1', '2001:db8:0:12::/64'],
    ['2001:0db8:0000:0012:ffff:1:2:3', '2001:db8:0:12::/64'],
    ['2001:db8::', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
  ])('should key %s as %s', (ip, key) => {
    expect(ipLimitKey(ip)).toBe(key);
  });
});
