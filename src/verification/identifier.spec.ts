import { ApiError } from '../common/api-error';
import { normaliseEmail } from './identifier';

const refused = (email: string) => {
  try {
    normaliseEmail(email);
    return false;
  } catch (err) {
    return err instanceof ApiError && err.status === 400;
  }
};

describe(normaliseEmail.name, () => {
  it('should lower-case a plain ASCII address and keep its domain', () => {
    expect(normaliseEmail('Ada.Lovelace+tag@Example.COM')).toBe('ada.lovelace+tag@example.com');
  });

  it('should store a Unicode domain in its IDNA form', () => {
    expect(normaliseEmail('user@bücher.example')).toBe('user@xn--bcher-kva.example');
  });

  it('should refuse look-alikes: a Cyrillic letter among Latin ones, invisible characters', () => {
    expect(refused('p\u0430ypal@example.com')).toBe(true);
    expect(refused('user@ex\u0430mple.com')).toBe(true);
    expect(refused('us\u200Ber@example.com')).toBe(true);
    expect(refused('user@exa\u00ADmple.com')).toBe(true);
  });

  it('should accept one script per part, and Latin mixed with Japanese', () => {
    expect(refused('пользователь@example.com')).toBe(false);
    expect(refused('yamadaさん@example.jp')).toBe(false);
  });
});
