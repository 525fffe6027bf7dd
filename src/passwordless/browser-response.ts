import type { FastifyReply } from 'fastify';

/** What the magic-link endpoints answer a browser: a page, or a redirect back to the application. */
export type BrowserResponse = (
  | {
      kind: 'page';
      status: number;
      html: string;
      csp: string;
      /** Set for the web_message page only: it is loaded in the application's iframe, so it may be framed. */
      framable?: boolean;
    }
  | { kind: 'redirect'; location: string }
) & { cookies?: string[] };

/**
 * The link token travels in the URL, so pages are never cached, never framed and send no Referer that would leak it
 * (RFC 6749 §10.6 / OAuth 2.0 Security BCP §4.2.4).
 */
export function sendBrowserResponse(reply: FastifyReply, response: BrowserResponse): void {
  void reply.headers({
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
  });
  if (response.cookies?.length) void reply.header('set-cookie', response.cookies);
  if (response.kind === 'redirect') {
    void reply.redirect(response.location, 302);
    return;
  }
  // The CSP's frame-ancestors says who may frame a page; X-Frame-Options (Helmet's DENY on every answer) is for
  // browsers that ignore it, so a framable page must not carry it.
  if (response.framable) void reply.removeHeader('x-frame-options');
  else void reply.header('x-frame-options', 'DENY');
  void reply
    .status(response.status)
    .header('content-security-policy', response.csp)
    .type('text/html; charset=utf-8')
    .send(response.html);
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ENTITIES[c]);

const STRICT_CSP = "default-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

export function errorPage(status: number, message: string): BrowserResponse {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex"><title>Sign-in link</title></head>
<body><h1>This sign-in link cannot be used</h1><p>${escapeHtml(message)}</p><p>Please request a new link.</p></body></html>`;
  return { kind: 'page', status, html, csp: STRICT_CSP };
}

/**
 * The page a GET of the link answers: it does not consume anything (mail scanners prefetch links) and completes with
 * a POST of the same parameters, by script at once or by the button. The script runs only under its CSP nonce, and
 * form-action also allows the application's origin because browsers apply it to the redirect that follows the POST.
 */
export function confirmationPage(params: Record<string, string>, redirectUri: string, nonce: string): BrowserResponse {
  const inputs = Object.entries(params)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('');
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Signing you in</title></head>
<body><form id="verify" method="post" action="verify_redirect">${inputs}<p>Finish signing in.</p><button type="submit">Continue</button></form>
<script nonce="${nonce}">document.getElementById('verify').submit();</script></body></html>`;
  const target = new URL(redirectUri);
  const targetSource = target.protocol === 'http:' || target.protocol === 'https:' ? target.origin : target.protocol;
  const csp = `default-src 'none'; script-src 'nonce-${nonce}'; base-uri 'none'; frame-ancestors 'none'; form-action 'self' ${targetSource}`;
  return { kind: 'page', status: 200, html, csp };
}
