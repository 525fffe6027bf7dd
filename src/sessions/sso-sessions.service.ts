import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { readCookie, setCookie } from '../common/cookies';
import { RandomSource } from '../common/random.source';
import { AppConfig } from '../config/app-config';
import { SecretHasher } from '../verification/secret-hasher';
import { SsoSessionsRepository, type SsoSession } from './sso-sessions.repository';

export const SESSION_COOKIE = 'pwl_session';
const SESSION_ID_BYTES = 32;
const SID_BYTES = 16;
/** The cookie value shape (base64url of 32 bytes): anything else is not looked up. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

export type { SsoSession };

/**
 * The SSO session of a browser: an opaque random cookie (HttpOnly; Secure when the issuer is https) whose HMAC keys
 * the server-side row. SameSite=None over https so that silent authentication in the application's hidden iframe
 * (a third-party context) still sends it; over plain http (development) browsers refuse None without Secure, so Lax.
 */
@Injectable()
export class SsoSessions {
  private readonly secure: boolean;

  constructor(
    private readonly sessions: SsoSessionsRepository,
    private readonly hasher: SecretHasher,
    private readonly random: RandomSource,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {
    this.secure = config.issuerBaseUrl.startsWith('https:');
  }

  /** Starts a session for a user who just proved their identifier; returns it and its Set-Cookie. */
  async create(userId: string): Promise<{ session: SsoSession; cookie: string }> {
    const { sessionLifetime, sessionIdleLifetime } = this.config.authorize;
    const id = this.random.token(SESSION_ID_BYTES);
    const now = this.clock.now();
    const session: SsoSession = { sid: this.random.token(SID_BYTES), userId, authTime: now };
    await this.sessions.create(
      {
        ...session,
        idHmac: this.hash(id),
        absoluteExpiresAt: new Date(now.getTime() + sessionLifetime * 1000),
        expiresAt: new Date(now.getTime() + sessionIdleLifetime * 1000),
      },
      now,
    );
    return { session, cookie: this.cookie(id, sessionLifetime) };
  }

  /** The live session named by the request's cookie (its idle end moved forward), or undefined. */
  async current(cookieHeader: string | string[] | undefined): Promise<SsoSession | undefined> {
    const id = readCookie(cookieHeader, SESSION_COOKIE);
    if (!id || !SESSION_ID.test(id)) return undefined;
    return this.sessions.touch(this.hash(id), this.clock.now(), this.config.authorize.sessionIdleLifetime);
  }

  /** Ends the request's session, if any; returns the Set-Cookie that deletes the cookie. */
  async end(cookieHeader: string | string[] | undefined): Promise<string | undefined> {
    const id = readCookie(cookieHeader, SESSION_COOKIE);
    if (id === undefined) return undefined;
    if (SESSION_ID.test(id)) await this.sessions.end(this.hash(id));
    return this.cookie('', 0);
  }

  private cookie(value: string, maxAge: number): string {
    return setCookie(SESSION_COOKIE, value, { maxAge, secure: this.secure, sameSite: this.secure ? 'None' : 'Lax' });
  }

  private hash(id: string): string {
    return this.hasher.hash('', 'session', id);
  }
}
