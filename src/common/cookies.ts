/** Cookies without a plugin: the service reads two of its own and writes them with fixed attributes. */

/** The value of cookie `name` in a Cookie header, or undefined (a malformed header yields nothing, never an error). */
export function readCookie(header: string | string[] | undefined, name: string): string | undefined {
  const text = Array.isArray(header) ? header.join('; ') : (header ?? '');
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export interface CookieOptions {
  /** Seconds; 0 deletes the cookie. */
  maxAge: number;
  secure: boolean;
  sameSite: 'Lax' | 'None';
}

/** A Set-Cookie value; `value` must already be cookie-safe (the service only writes base64url and dots). */
export function setCookie(name: string, value: string, options: CookieOptions): string {
  const parts = [`${name}=${value}`, 'Path=/', 'HttpOnly', `Max-Age=${options.maxAge}`, `SameSite=${options.sameSite}`];
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}
