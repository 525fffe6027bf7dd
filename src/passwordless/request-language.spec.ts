import { requestLanguageFrom } from './request-language';

describe(requestLanguageFrom.name, () => {
  it.each([
    [{ 'x-request-language': 'fr-CA', 'accept-language': 'de' }, 'fr-CA'],
    [{ 'accept-language': 'de;q=0.5, es-MX, en;q=0.8' }, 'es-MX'],
    [{ 'accept-language': '*, en;q=0' }, null],
    [{ 'x-request-language': '<script>' }, null],
    [{}, null],
  ])('should read %j as %s', (headers, expected) => {
    expect(requestLanguageFrom(headers)).toBe(expected);
  });
});
