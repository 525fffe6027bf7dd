import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { ApiError } from '../common/api-error';
import { missing } from '../common/auth0-validation';

/** Emails are compared case-insensitively (lower-cased, NFC); the format was checked by the DTO. */
export function normaliseEmail(email: string | undefined): string {
  if (email === undefined || email === null) throw new ApiError(400, 'bad.email', missing('email'));
  return email.normalize('NFC').toLowerCase();
}

/** The DTO checked Auth0's pattern; libphonenumber then rejects numbers no carrier could route, stored as E.164. */
export function normalisePhone(phone: string | undefined): string {
  if (phone === undefined || phone === null) throw new ApiError(400, 'bad.phone_number', missing('phone_number'));
  const parsed = parsePhoneNumberFromString(phone);
  if (!parsed?.isValid()) throw new ApiError(400, 'bad.phone_number', `error in phone_number - invalid phone number: ${phone}`);
  return parsed.number;
}

/**
 * The identifier a login names, normalised like start stores it. A malformed one cannot match any record, so it is
 * passed through and ends as "wrong code" instead of a different error that would reveal the validation.
 */
export function loginIdentifier(strategy: 'email' | 'sms', raw: string): string {
  if (strategy === 'email') return normaliseEmail(raw);
  try {
    return normalisePhone(raw);
  } catch {
    return raw;
  }
}
