import { isEmail } from 'class-validator';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { domainToASCII } from 'node:url';
import { startErrors } from '../common/auth0-errors';

const E164_PATTERN = /^\+[0-9]{1,15}$/;

/**
 * Checked after the connection is known (Auth0's order: connection before identifier), so an email start ignores a
 * stray `phone_number` and vice versa. Emails are compared case-insensitively (lower-cased, NFC) with the domain in
 * its IDNA (punycode) form, so `example.com` written in full-width or Unicode letters is the same domain. Addresses
 * that only look like another are refused (see lookAlike), else they would be separate accounts.
 */
export function normaliseEmail(email: string | undefined): string {
  if (email === undefined || email === null) throw startErrors.missingEmail();
  const valid =
    email.length <= 254 && isEmail(email, { allow_utf8_local_part: true, require_tld: true, allow_ip_domain: false });
  if (!valid || lookAlike(email)) throw startErrors.invalidEmail(email);
  const at = email.lastIndexOf('@');
  const domain = domainToASCII(email.slice(at + 1));
  if (domain === '') throw startErrors.invalidEmail(email);
  return `${email.slice(0, at).normalize('NFC').toLowerCase()}@${domain}`;
}

const PRINTABLE_ASCII = /^[\x21-\x7e]*$/;

/** Characters that do not show: controls, format characters (zero-width, bidi), separators, and blank letters. */
const INVISIBLE = /[\p{C}\p{Z}\u115F\u1160\u3164\uFFA0\u2800]/u;

/** Scripts a label's letters are sorted into; a letter of none of them counts as its own script. */
const SCRIPTS: Array<[string, RegExp]> = [
  'Latin',
  'Greek',
  'Cyrillic',
  'Armenian',
  'Hebrew',
  'Arabic',
  'Devanagari',
  'Bengali',
  'Thai',
  'Georgian',
  'Hangul',
  'Hiragana',
  'Katakana',
  'Han',
  'Bopomofo',
  'Tamil',
  'Telugu',
  'Ethiopic',
  'Khmer',
  'Gujarati',
].map((name) => [name, new RegExp(`\\p{Script=${name}}`, 'u')]);

/** Script mixes that one language writes (UTS #39 "highly restrictive"): Latin with Japanese, Chinese or Korean. */
const ALLOWED_MIXES = [
  ['Latin', 'Han', 'Hiragana', 'Katakana'],
  ['Latin', 'Han', 'Bopomofo'],
  ['Latin', 'Han', 'Hangul'],
];

/**
 * Invisible characters anywhere, or a part of the address (the local part, each domain label) whose letters mix
 * scripts, as a Cyrillic `р` among Latin letters does.
 */
function lookAlike(email: string): boolean {
  // Printable ASCII has no invisible character and no letter outside Latin: most addresses end here.
  if (PRINTABLE_ASCII.test(email)) return false;
  if (INVISIBLE.test(email)) return true;
  const at = email.lastIndexOf('@');
  const parts = [email.slice(0, at), ...email.slice(at + 1).split('.')];
  return parts.some((part) => {
    const scripts = new Set<string>();
    for (const char of part.normalize('NFC')) {
      if (!/\p{L}/u.test(char)) continue;
      scripts.add(SCRIPTS.find(([, pattern]) => pattern.test(char))?.[0] ?? `other:${char}`);
    }
    return scripts.size > 1 && !ALLOWED_MIXES.some((mix) => [...scripts].every((script) => mix.includes(script)));
  });
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
