import { isEmail } from 'class-validator';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { ApiError } from '../common/api-error';
import { echo, missing } from '../common/auth0-validation';

const E164_PATTERN = /^\+[0-9]{1,15}$/;

/**
 * Checked after the connection is known (Auth0's order: connection before identifier), so an email start ignores a
 * stray `phone_number` and vice versa. Emails are compared case-insensitively (lower-cased, NFC).
 */
export function normaliseEmail(email: string | undefined): string {
  if (email === undefined || email === null) throw new ApiError(400, 'bad.email', missing('email'));
  const valid =
    email.length <= 254 && isEmail(email, { allow_utf8_local_part: true, require_tld: true, allow_ip_domain: false });
  if (!valid) throw new ApiError(400, 'bad.email', `error in email - email format validation failed: ${echo(email)}`);
  return email.normalize('NFC').toLowerCase();
}

/** Auth0's pattern first; libphonenumber then rejects numbers no carrier could route. Stored as E.164. */
export function normalisePhone(phone: string | undefined): string {
  if (phone === undefined || phone === null) throw new ApiError(400, 'bad.phone_number', missing('phone_number'));
  if (!E164_PATTERN.test(phone))
    throw new ApiError(400, 'bad.phone_number', 'String does not match pattern: ^\\+[0-9]{1,15}$');
  const parsed = parsePhoneNumberFromString(phone);
  if (!parsed?.isValid())
    throw new ApiError(400, 'bad.phone_number', `error in phone_number - invalid phone number: ${phone}`);
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
