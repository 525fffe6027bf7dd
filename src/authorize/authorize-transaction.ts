import { Injectable } from '@nestjs/common';
import { createHmac } from 'node:crypto';
import { Clock } from '../common/clock';
import { constantTimeEqual } from '../common/constant-time';
import { readCookie, setCookie } from '../common/cookies';
import { RandomSource } from '../common/random.source';
import { AppConfig } from '../config/app-config';

export const TRANSACTION_COOKIE = 'pwl_tx';
/** Browsers keep cookies up to 4096 bytes; a request that would not fit is refused rather than cut. */
export const MAX_TRANSACTION_COOKIE = 3800;

/** A login in progress on the hosted page: the authorization request and, after step 1, who is logging in. */
export interface AuthorizeTransaction {
  /** Random id, repeated in the page's forms (a form posted without this browser's cookie does nothing). */
  id: string;
  /** The /authorize query parameters, checked again at each step. */
  params: Record<string, string>;
  locale: string;
  /** Epoch seconds. */
  exp: number;
  connection?: string;
  identifier?: string;
}

/**
 * The pending request is bound to the browser by a signed cookie (HMAC-SHA256 under a key derived from
 * CODE_HASH_SECRET): HttpOnly, SameSite=Lax (sent on the hosted page's own form posts, never on another site's), Secure
 * when the issuer is https. It holds no secret: the code itself is checked against the verification record.
 */
@Injectable()
export class AuthorizeTransactions {
  private readonly key: Buffer;
  private readonly secure: boolean;

  constructor(
    private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly random: RandomSource,
  ) {
    this.key = createHmac('sha256', config.secrets.codeHashSecret).update('authorize-transaction').digest();
    this.secure = config.issuerBaseUrl.startsWith('https:');
  }

  create(params: Record<string, string>, locale: string): AuthorizeTransaction {
    const exp = Math.floor(this.clock.now().getTime() / 1000) + this.config.authorize.transactionLifetime;
    return { id: this.random.token(16), params, locale, exp };
  }

  /** The Set-Cookie for `tx`, or undefined when it is too large for a cookie. */
  cookie(tx: AuthorizeTransaction): string | undefined {
    const body = Buffer.from(JSON.stringify(tx)).toString('base64url');
    const value = `${body}.${this.sign(body)}`;
    if (value.length > MAX_TRANSACTION_COOKIE) return undefined;
    const maxAge = Math.max(0, tx.exp - Math.floor(this.clock.now().getTime() / 1000));
    return setCookie(TRANSACTION_COOKIE, value, { maxAge, secure: this.secure, sameSite: 'Lax' });
  }

  clearCookie(): string {
    return setCookie(TRANSACTION_COOKIE, '', { maxAge: 0, secure: this.secure, sameSite: 'Lax' });
  }

  /** The browser's live transaction, if its cookie is intact and `formId` (the posted form's) names it. */
  open(cookieHeader: string | string[] | undefined, formId: unknown): AuthorizeTransaction | undefined {
    const value = readCookie(cookieHeader, TRANSACTION_COOKIE);
    if (!value || typeof formId !== 'string') return undefined;
    const dot = value.indexOf('.');
    if (dot < 1) return undefined;
    const body = value.slice(0, dot);
    if (!constantTimeEqual(Buffer.from(value.slice(dot + 1)), Buffer.from(this.sign(body)))) return undefined;
    let tx: AuthorizeTransaction;
    try {
      tx = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as AuthorizeTransaction;
    } catch {
      return undefined;
    }
    if (tx.exp <= Math.floor(this.clock.now().getTime() / 1000)) return undefined;
    return constantTimeEqual(Buffer.from(tx.id), Buffer.from(formId)) ? tx : undefined;
  }

  private sign(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}
