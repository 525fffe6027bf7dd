import type { ClientRateLimits } from '../config/app-config';

/**
 * The env defaults with a client's `rate_limits` overrides on top. The column is edited by hand in migrations, so
 * anything that is not a non-negative whole number (or an unknown name) is ignored rather than trusted.
 */
export function effectiveLimits(defaults: ClientRateLimits, overrides: unknown): ClientRateLimits {
  if (typeof overrides !== 'object' || overrides === null) return defaults;
  const merged = { ...defaults };
  for (const name of Object.keys(defaults) as Array<keyof ClientRateLimits>) {
    const value = (overrides as Record<string, unknown>)[name];
    if (Number.isSafeInteger(value) && (value as number) >= (name === 'startIdentifierCooldownMs' ? 0 : 1)) merged[name] = value as number;
  }
  return merged;
}
