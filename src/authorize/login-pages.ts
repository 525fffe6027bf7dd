import { escapeHtml, type BrowserResponse } from '../passwordless/browser-response';
import type { ConnectionEntity } from '../verification/connection.entity';
import type { LoginTexts } from './login-texts';

/** Kept small and inline (no front-end build): system fonts, high contrast, visible focus. */
const STYLE = `body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f3f4f6;color:#111827;margin:0}
main{max-width:26rem;margin:3rem auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.2)}
h1{font-size:1.5rem;margin:0 0 .5rem}p{line-height:1.5}label{display:block;font-weight:600;margin:1rem 0 .25rem}
input{box-sizing:border-box;width:100%;font-size:1rem;padding:.6rem;border:1px solid #4b5563;border-radius:4px}
button{font-size:1rem;padding:.6rem 1rem;margin-top:1rem;border-radius:4px;border:1px solid #1d4ed8;background:#1d4ed8;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#1d4ed8}a{color:#1d4ed8}
:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}
.error{color:#991b1b;background:#fef2f2;border:1px solid #991b1b;padding:.5rem;border-radius:4px}
.info{color:#065f46;background:#ecfdf5;border:1px solid #065f46;padding:.5rem;border-radius:4px}
.hint{color:#374151;font-size:.9rem;margin:.25rem 0}hr{margin:1.5rem 0;border:0;border-top:1px solid #d1d5db}`;

export interface PageContext {
  locale: string;
  texts: LoginTexts;
  clientName: string;
  /** Random per response: the only style (and script) the page's CSP allows. */
  nonce: string;
  /** The application's origin: the code step's form is answered by a redirect there (CSP form-action). */
  returnOrigin?: string;
}

/** No script: the hosted page works without JavaScript. */
function loginPage(ctx: PageContext, status: number, title: string, body: string): BrowserResponse {
  const html = `<!doctype html><html lang="${ctx.locale}"><head><meta charset="utf-8"><meta name="robots" content="noindex"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)} – ${escapeHtml(ctx.clientName)}</title><style nonce="${ctx.nonce}">${STYLE}</style></head>
<body><main>${body}</main></body></html>`;
  const formAction = ctx.returnOrigin ? `'self' ${ctx.returnOrigin}` : "'self'";
  const csp = `default-src 'none'; style-src 'nonce-${ctx.nonce}'; base-uri 'none'; frame-ancestors 'none'; form-action ${formAction}`;
  return { kind: 'page', status, html, csp };
}

const alert = (message: string | undefined, id: string) =>
  message ? `<p class="error" role="alert" id="${id}">${escapeHtml(message)}</p>` : '';

const heading = (ctx: PageContext, title: string) =>
  `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(ctx.texts.continueTo)} <strong>${escapeHtml(ctx.clientName)}</strong></p>`;

export interface IdentifierStep {
  txId: string;
  connections: ConnectionEntity[];
  loginHint?: string;
  offerLink: boolean;
  error?: string;
}

/** Step 1: the email address or phone number, one form per offered connection. */
export function identifierPage(ctx: PageContext, step: IdentifierStep, status = 200): BrowserResponse {
  const t = ctx.texts;
  const described = step.error ? ' aria-describedby="error" aria-invalid="true"' : '';
  const forms = step.connections.map((connection, index) => {
    const value = step.loginHint ? ` value="${escapeHtml(step.loginHint)}"` : '';
    const hidden = `<input type="hidden" name="tx" value="${step.txId}"><input type="hidden" name="connection" value="${escapeHtml(connection.name)}">`;
    const separator =
      index > 0 ? `<hr><h2>${escapeHtml(connection.strategy === 'sms' ? t.orSms : t.orEmail)}</h2>` : '';
    const field =
      connection.strategy === 'email'
        ? `<label for="email-${index}">${escapeHtml(t.emailLabel)}</label><input id="email-${index}" name="email" type="email" autocomplete="email" required${index === 0 ? ' autofocus' : ''}${index === 0 ? described : ''}${value}>`
        : `<label for="phone-${index}">${escapeHtml(t.phoneLabel)}</label><p class="hint" id="phone-hint-${index}">${escapeHtml(t.phoneHint)}</p><input id="phone-${index}" name="phone_number" type="tel" autocomplete="tel" required aria-describedby="phone-hint-${index}${index === 0 && step.error ? ' error' : ''}"${index === 0 && step.error ? ' aria-invalid="true"' : ''}${index === 0 ? ' autofocus' : ''}${connection.strategy === 'sms' && step.loginHint?.startsWith('+') ? value : ''}>`;
    const link =
      connection.strategy === 'email' && step.offerLink
        ? `<button type="submit" name="send" value="link" class="secondary">${escapeHtml(t.sendLink)}</button>`
        : '';
    return `${separator}<form method="post" action="/authorize/identifier">${hidden}${field}<button type="submit" name="send" value="code">${escapeHtml(t.continue)}</button> ${link}</form>`;
  });
  return loginPage(ctx, status, t.title, `${heading(ctx, t.title)}${alert(step.error, 'error')}${forms.join('')}`);
}

export interface CodeStep {
  txId: string;
  identifier: string;
  /** Back to step 1 (the original /authorize URL). */
  restartUrl: string;
  error?: string;
  info?: string;
}

/** Step 2: the one-time code, with resend. */
export function codePage(ctx: PageContext, step: CodeStep, status = 200): BrowserResponse {
  const t = ctx.texts;
  const hidden = `<input type="hidden" name="tx" value="${step.txId}">`;
  const invalid = step.error ? ' aria-describedby="error" aria-invalid="true"' : '';
  const info = step.info ? `<p class="info" role="status">${escapeHtml(step.info)}</p>` : '';
  const body = `${heading(ctx, t.codeTitle)}<p>${escapeHtml(t.codeSentTo)} <strong>${escapeHtml(step.identifier)}</strong></p>${alert(step.error, 'error')}${info}
<form method="post" action="/authorize/challenge">${hidden}<label for="code">${escapeHtml(t.codeLabel)}</label><input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]*" maxlength="12" required autofocus${invalid}><button type="submit">${escapeHtml(t.continue)}</button></form>
<form method="post" action="/authorize/resend">${hidden}<p>${escapeHtml(t.resendPrompt)} <button type="submit" class="secondary">${escapeHtml(t.resend)}</button></p></form>
<p><a href="${escapeHtml(step.restartUrl)}">${escapeHtml(t.otherIdentifier)}</a></p>`;
  return loginPage(ctx, status, t.codeTitle, body);
}

export function linkSentPage(ctx: PageContext, identifier: string): BrowserResponse {
  const t = ctx.texts;
  return loginPage(
    ctx,
    200,
    t.linkTitle,
    `<h1>${escapeHtml(t.linkTitle)}</h1><p>${escapeHtml(t.linkSentTo)} <strong>${escapeHtml(identifier)}</strong>.</p>`,
  );
}

/** Errors that cannot go back to the application: `error` and `error_description` as Auth0's error page shows them. */
export function authorizeErrorPage(
  ctx: Omit<PageContext, 'clientName'>,
  status: number,
  error: string,
  description: string,
): BrowserResponse {
  const t = ctx.texts;
  return loginPage(
    { ...ctx, clientName: t.errorTitle },
    status,
    t.errorTitle,
    `<h1>${escapeHtml(t.errorTitle)}</h1><p role="alert"><code>${escapeHtml(error)}</code>: ${escapeHtml(description)}</p>`,
  );
}

/** response_mode=form_post (OAuth 2.0 Form Post Response Mode): posts the results to the redirect_uri. */
export function formPostPage(
  redirectUri: string,
  values: Record<string, string>,
  nonce: string,
  texts: LoginTexts,
): BrowserResponse {
  const inputs = Object.entries(values)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('');
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex"><title>${escapeHtml(texts.redirecting)}</title></head>
<body><form method="post" action="${escapeHtml(redirectUri)}">${inputs}<noscript><p>${escapeHtml(texts.redirecting)}</p><button type="submit">${escapeHtml(texts.submit)}</button></noscript></form>
<script nonce="${nonce}">document.forms[0].submit();</script></body></html>`;
  const csp = `default-src 'none'; script-src 'nonce-${nonce}'; base-uri 'none'; frame-ancestors 'none'; form-action ${new URL(redirectUri).origin}`;
  return { kind: 'page', status: 200, html, csp };
}

/**
 * response_mode=web_message (Auth0): the page, loaded in the application's iframe or popup, posts
 * `{type:'authorization_response', response}` to the application's origin only.
 */
export function webMessagePage(origin: string, values: Record<string, string>, nonce: string): BrowserResponse {
  const json = (value: unknown) =>
    JSON.stringify(value)
      .replace(/</g, '\\u003c')
      .replace(/\u2028/g, '\\u2028')
      .replace(/\u2029/g, '\\u2029');
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex"><title>Authorization response</title></head>
<body><script nonce="${nonce}">(function(){var target=window.opener||window.parent;target.postMessage({type:"authorization_response",response:${json(values)}},${json(origin)});})();</script></body></html>`;
  const csp = `default-src 'none'; script-src 'nonce-${nonce}'; base-uri 'none'; frame-ancestors ${origin}`;
  return { kind: 'page', status: 200, html, csp, framable: true };
}
