import { escapeHtml, type BrowserResponse } from '../passwordless/browser-response';

const STRICT_CSP = "default-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

const page = (status: number, title: string, message: string): BrowserResponse => ({
  kind: 'page',
  status,
  csp: STRICT_CSP,
  html: `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex"><title>${escapeHtml(title)}</title></head>
<body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></body></html>`,
});

/** Where logout has nowhere to send the browser back to. */
export const loggedOutPage = (): BrowserResponse => page(200, 'Logged out', 'You have been logged out.');

/** A logout request whose target cannot be trusted: shown, never redirected (an open redirect otherwise). */
export const logoutErrorPage = (message: string): BrowserResponse => page(400, 'Logout failed', message);
