import { pageLocale, textsFor } from './login-texts';

describe('pageLocale', () => {
  it('should take the first shipped language of ui_locales', () => {
    expect(pageLocale('de fr-CA en', 'en')).toBe('fr');
    expect(pageLocale('es', 'fr;q=0.9, de')).toBe('fr');
  });

  it('should rank Accept-Language by q and fall back to English', () => {
    expect(pageLocale(undefined, 'de, en;q=0.5, fr;q=0.8')).toBe('fr');
    expect(pageLocale(undefined, 'de, fr;q=0')).toBe('en');
    expect(pageLocale(undefined, undefined)).toBe('en');
    expect(pageLocale('', 'garbage;;;q=x')).toBe('en');
  });

  it('should ship every text in French', () => {
    expect(Object.keys(textsFor('fr'))).toEqual(Object.keys(textsFor('en')));
    expect(textsFor('xx')).toBe(textsFor('en'));
  });
});
