import { isEmail } from 'class-validator';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { startErrors } from '../common/auth0-errors';

const E164_PATTERN = /^\+[0-9]{1,15}$/;

/**
 * Checked after the connection is known (Auth0's order: connection before identifier), so an email start ignores a
 * stray `phone_number` and vice versa. Emails are compared case-insensitively (lower-cased, NFC).
 */
export function normaliseEmail(email: string | undefined): string {
  if (email === undefined || email === null) throw startErrors.missingEmail();
  const valid =
    email.length <= 254 && isEmail(email, { allow_utf8_local_part: true, require_tld: true, allow_ip_domain: false });
  if (!valid) throw startErrors.invalidEmail(email);
  return email.normalize('NFC').toLowerCase();
}

/** Auth0's pattern first; libphonenumber then rejects numbers no carrier could route. Stored as E.164. */
export function normalisePhone(phone: string | undefined): string {
  if (phone === undefined || phone === null) throw startErrors.missingPhoneNumber();
  if (!E164_PATTERN.test(phone)) throw startErrors.phoneNumberPattern();
  const parsed = parsePhoneNumberFromString(phone);
  if (!parsed?.isValid()) throw startErrors.invalidPhoneNumber(phone);
  return parsed.number;
}

/**
 * The identifier a login names, normalised like start stores it. A malformed one cannot match any record, so it is
 * passed through and ends as "wrong code" instead of a different error that would reveal the validation.
 */
export function loginIdentifier(strategy: 'email' | 'sms', raw: string): string {
  try {
    return strategy === 'email' ? normaliseEmail(raw) : normalisePhone(raw);
  } catch {
    return strategy === 'email' ? raw.toLowerCase() : raw;
  }
}
