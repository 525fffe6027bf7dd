import { readCookie, setCookie } from './cookies';

describe('cookies', () => {
  it('should read one cookie among several and ignore malformed parts', () => {
    expect(readCookie('a=1; pwl_session=abc.def; =x; junk', 'pwl_session')).toBe('abc.def');
    expect(readCookie(undefined, 'pwl_session')).toBeUndefined();
    expect(readCookie('pwl_sessionx=1', 'pwl_session')).toBeUndefined();
  });

  it('should write HttpOnly cookies for the whole site, Secure only when asked', () => {
    expect(setCookie('n', 'v', { maxAge: 60, secure: true, sameSite: 'None' })).toBe(
      'n=v; Path=/; HttpOnly; Max-Age=60; SameSite=None; Secure',
    );
    expect(setCookie('n', '', { maxAge: 0, secure: false, sameSite: 'Lax' })).toBe(
      'n=; Path=/; HttpOnly; Max-Age=0; SameSite=Lax',
    );
  });
});
