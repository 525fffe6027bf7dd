import type { ClientRateLimits } from '../config/sections/rate-limit.config';

/** The limits a client may override in its `rate_limits` column; only the cooldown may be 0 (off). */
const MINIMUM: Record<keyof ClientRateLimits, number> = {
  startPerIp: 1,
  startPerIdentifier: 1,
  startIdentifierCooldownMs: 0,
  startPerClient: 1,
  otpFailuresPerIp: 1,
  otpFailuresPerIdentifier: 1,
};
const NAMES = Object.keys(MINIMUM) as Array<keyof ClientRateLimits>;
const isValid = (name: keyof ClientRateLimits, value: unknown) =>
  Number.isSafeInteger(value) && (value as number) >= MINIMUM[name];

/**
 * The env defaults with a client's `rate_limits` overrides on top. The column is edited in migrations, so at run
 * time anything that is not a whole number in range (or an unknown name) is ignored rather than trusted.
 */
export function effectiveLimits(defaults: ClientRateLimits, overrides: unknown): ClientRateLimits {
  if (typeof overrides !== 'object' || overrides === null) return defaults;
  const merged = { ...defaults };
  for (const name of NAMES) {
    const value = (overrides as Record<string, unknown>)[name];
    if (isValid(name, value)) merged[name] = value as number;
  }
  return merged;
}

/** Strict parsing for `client:new --rate-limits '{"startPerIp":500}'`: an admin typo is an error, not ignored. */
export function parseRateLimitOverrides(json: string): Partial<ClientRateLimits> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new Error('--rate-limits must be a JSON object');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new Error('--rate-limits must be a JSON object');
  for (const [name, value] of Object.entries(parsed)) {
    if (!NAMES.includes(name as keyof ClientRateLimits))
      throw new Error(`--rate-limits: unknown limit ${name} (known: ${NAMES.join(', ')})`);
    if (!isValid(name as keyof ClientRateLimits, value))
      throw new Error(`--rate-limits: ${name} must be a whole number >= ${MINIMUM[name as keyof ClientRateLimits]}`);
  }
  return parsed;
}
