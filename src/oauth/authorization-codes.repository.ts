import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { affectedRows } from '../database/affected-rows';
import { DataSource } from 'typeorm';

export interface AuthorizationCode {
  codeHmac: string;
  clientId: string;
  userId: string;
  redirectUri: string;
  scope: string;
  audience: string | null;
  nonce: string | null;
  codeChallenge: string | null;
  expiresAt: Date;
  /** Set for codes of a hosted login: the login's time and SSO session id, for the id_token. */
  authTime?: Date | null;
  sid?: string | null;
}

type Row = {
  code_hmac: string;
  client_id: string;
  user_id: string;
  redirect_uri: string;
  scope: string;
  audience: string | null;
  nonce: string | null;
  code_challenge: string | null;
  expires_at: Date;
  auth_time: Date | null;
  sid: string | null;
};

/** One-time authorization codes from the magic-link flow, stored only as HMACs bound to the client. */
@Injectable()
export class AuthorizationCodesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async create(code: AuthorizationCode, now: Date): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO authorization_codes (code_hmac, client_id, user_id, redirect_uri, scope, audience, nonce, code_challenge, expires_at, created_at, auth_time, sid)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [
        code.codeHmac,
        code.clientId,
        code.userId,
        code.redirectUri,
        code.scope,
        code.audience,
        code.nonce,
        code.codeChallenge,
        code.expiresAt,
        now,
        code.authTime ?? null,
        code.sid ?? null,
      ],
    );
  }

  async findRedeemable(codeHmac: string, clientId: string, now: Date): Promise<AuthorizationCode | undefined> {
    const rows: Row[] = await this.dataSource.query(
      'SELECT * FROM authorization_codes WHERE code_hmac = $1 AND client_id = $2 AND consumed_at IS NULL AND expires_at > $3',
      [codeHmac, clientId, now],
    );
    return rows[0] && toCode(rows[0]);
  }

  /** Single use (RFC 6749 §4.1.2): only one caller can set consumed_at. */
  async consume(codeHmac: string, now: Date): Promise<boolean> {
    const count = await affectedRows(
      this.dataSource,
      'UPDATE authorization_codes SET consumed_at = $2 WHERE code_hmac = $1 AND consumed_at IS NULL AND expires_at > $2',
      [codeHmac, now],
    );
    return count === 1;
  }
}

function toCode(row: Row): AuthorizationCode {
  return {
    codeHmac: row.code_hmac,
    clientId: row.client_id,
    userId: row.user_id,
    redirectUri: row.redirect_uri,
    scope: row.scope,
    audience: row.audience,
    nonce: row.nonce,
    codeChallenge: row.code_challenge,
    expiresAt: row.expires_at,
    authTime: row.auth_time,
    sid: row.sid,
  };
}
