import { loadConfig } from '../config/app-config';
import { effectiveLimits } from './client-rate-limits';

describe(effectiveLimits.name, () => {
  const defaults = loadConfig({}).rateLimit.defaults;

  it('should apply whole-number overrides and ignore anything else', () => {
    const merged = effectiveLimits(defaults, {
      startPerIp: 5,
      startIdentifierCooldownMs: 0,
      startPerClient: 0,
      otpFailuresPerIp: '9',
      otpFailuresPerIdentifier: 2.5,
      unknown: 1,
    });
    expect(merged).toEqual({ ...defaults, startPerIp: 5, startIdentifierCooldownMs: 0 });
    expect(effectiveLimits(defaults, null)).toBe(defaults);
  });
});
