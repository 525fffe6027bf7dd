import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { affectedRows } from '../database/affected-rows';

export interface SsoSession {
  sid: string;
  userId: string;
  authTime: Date;
}

type Row = { sid: string; user_id: string; auth_time: Date };

/** Server-side login sessions, keyed by the HMAC of the cookie value (the value itself is never stored). */
@Injectable()
export class SsoSessionsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async create(
    session: SsoSession & { idHmac: string; absoluteExpiresAt: Date; expiresAt: Date },
    now: Date,
  ): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO sso_sessions (id_hmac, sid, user_id, auth_time, absolute_expires_at, expires_at, last_seen_at, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`,
      [
        session.idHmac,
        session.sid,
        session.userId,
        session.authTime,
        session.absoluteExpiresAt,
        session.expiresAt,
        now,
      ],
    );
  }

  /** The live session, its idle end moved forward (never past its absolute end) in the same statement. */
  async touch(idHmac: string, now: Date, idleSeconds: number): Promise<SsoSession | undefined> {
    const rows: Row[] = await this.dataSource.query(
      `WITH s AS (
         UPDATE sso_sessions SET last_seen_at = $2,
           expires_at = LEAST(absolute_expires_at, $2::timestamptz + make_interval(secs => $3))
         WHERE id_hmac = $1 AND expires_at > $2
         RETURNING sid, user_id, auth_time
       ) SELECT * FROM s`,
      [idHmac, now, idleSeconds],
    );
    const row = rows[0];
    return row && { sid: row.sid, userId: row.user_id, authTime: row.auth_time };
  }

  async end(idHmac: string): Promise<boolean> {
    return (await affectedRows(this.dataSource, 'DELETE FROM sso_sessions WHERE id_hmac = $1', [idHmac])) === 1;
  }

  /** Retention: expired sessions are deleted (through the expires_at index). Returns how many. */
  async deleteExpired(now: Date): Promise<number> {
    return affectedRows(this.dataSource, 'DELETE FROM sso_sessions WHERE expires_at <= $1', [now]);
  }
}
