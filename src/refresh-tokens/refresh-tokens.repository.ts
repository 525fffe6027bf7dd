import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { affectedRows } from '../database/affected-rows';

export interface NewFamily {
  tokenHmac: string;
  clientId: string;
  userId: string;
  /** Space-separated, offline_access included. */
  scope: string;
  audience: string | null;
  /** The authorization code the family was issued from, so that a second redemption of it can revoke the family. */
  authorizationCodeHmac: string | null;
  /** The login the family comes from (browser logins): its refreshed id_tokens keep `auth_time` and `sid`. */
  authTime: Date | null;
  sid: string | null;
  /** Absolute end of the family (maximum lifetime), fixed at issuance. */
  familyExpiresAt: Date;
  /** Idle end of the first token. */
  tokenExpiresAt: Date;
  now: Date;
}

/** A presented token with its family, as read before an exchange. */
export interface StoredToken {
  familyId: string;
  userId: string;
  scope: string;
  audience: string | null;
  counter: number;
  latestCounter: number;
  rotatedAt: Date | null;
  tokenExpiresAt: Date;
  familyExpiresAt: Date;
  revokedAt: Date | null;
  authTime: Date | null;
  sid: string | null;
}

type Row = {
  family_id: string;
  user_id: string;
  scope: string;
  audience: string | null;
  counter: number;
  latest_counter: number;
  rotated_at: Date | null;
  token_expires_at: Date;
  family_expires_at: Date;
  revoked_at: Date | null;
  auth_time: Date | null;
  sid: string | null;
};

export interface Rotation {
  familyId: string;
  /** The family's latest counter as read: the exchange only happens if no one moved it since. */
  expectedLatest: number;
  oldTokenHmac: string;
  newTokenHmac: string;
  /** Idle end of the new token; capped at the family's absolute end in SQL. */
  idleExpiresAt: Date;
  now: Date;
}

/** Refresh-token families and their tokens, stored only as HMACs (see the BrowserClientsRefreshTokens migration). */
@Injectable()
export class RefreshTokensRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** One statement: the family and its first token. */
  async createFamily(family: NewFamily): Promise<void> {
    await this.dataSource.query(
      `WITH f AS (
         INSERT INTO refresh_token_families (id, client_id, user_id, scope, audience, authorization_code_hmac,
                                             expires_at, created_at, auth_time, sid)
         VALUES (gen_random_uuid(), $2, $3, $4, $5, $6, $7, $9, $10, $11) RETURNING id
       )
       INSERT INTO refresh_tokens (token_hmac, family_id, counter, expires_at, created_at) SELECT $1, id, 0, $8, $9 FROM f`,
      [
        family.tokenHmac,
        family.clientId,
        family.userId,
        family.scope,
        family.audience,
        family.authorizationCodeHmac,
        family.familyExpiresAt,
        family.tokenExpiresAt,
        family.now,
        family.authTime,
        family.sid,
      ],
    );
  }

  async find(tokenHmac: string, clientId: string): Promise<StoredToken | undefined> {
    const rows: Row[] = await this.dataSource.query(
      `SELECT t.family_id, f.user_id, f.scope, f.audience, t.counter, f.latest_counter, t.rotated_at,
              t.expires_at AS token_expires_at, f.expires_at AS family_expires_at, f.revoked_at, f.auth_time, f.sid
         FROM refresh_tokens t JOIN refresh_token_families f ON f.id = t.family_id
        WHERE t.token_hmac = $1 AND f.client_id = $2`,
      [tokenHmac, clientId],
    );
    const row = rows[0];
    return (
      row && {
        familyId: row.family_id,
        userId: row.user_id,
        scope: row.scope,
        audience: row.audience,
        counter: row.counter,
        latestCounter: row.latest_counter,
        rotatedAt: row.rotated_at,
        tokenExpiresAt: row.token_expires_at,
        familyExpiresAt: row.family_expires_at,
        revokedAt: row.revoked_at,
        authTime: row.auth_time,
        sid: row.sid,
      }
    );
  }

  /**
   * One statement: moves the family's latest counter (only from `expectedLatest`, so of two concurrent exchanges one
   * wins and the other finds nothing), marks the presented token rotated and inserts its successor.
   */
  async rotate(rotation: Rotation): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `WITH fam AS (
         UPDATE refresh_token_families SET latest_counter = latest_counter + 1
          WHERE id = $1 AND latest_counter = $2 AND revoked_at IS NULL AND expires_at > $6
         RETURNING id, latest_counter, expires_at
       ), used AS (
         UPDATE refresh_tokens SET rotated_at = COALESCE(rotated_at, $6) WHERE token_hmac = $3 AND EXISTS (SELECT 1 FROM fam)
       )
       INSERT INTO refresh_tokens (token_hmac, family_id, counter, expires_at, created_at)
       SELECT $4, id, latest_counter, LEAST(expires_at, $5::timestamptz), $6 FROM fam
       RETURNING counter`,
      [
        rotation.familyId,
        rotation.expectedLatest,
        rotation.oldTokenHmac,
        rotation.newTokenHmac,
        rotation.idleExpiresAt,
        rotation.now,
      ],
    );
    return rows.length === 1;
  }

  async revokeFamily(familyId: string, now: Date): Promise<void> {
    await this.dataSource.query(
      'UPDATE refresh_token_families SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL',
      [familyId, now],
    );
  }

  /** Revokes the family of a token of this client; returns whether there was a live one. */
  async revokeByToken(tokenHmac: string, clientId: string, now: Date): Promise<boolean> {
    const count = await affectedRows(
      this.dataSource,
      `UPDATE refresh_token_families f SET revoked_at = $3 FROM refresh_tokens t
        WHERE t.token_hmac = $1 AND t.family_id = f.id AND f.client_id = $2 AND f.revoked_at IS NULL`,
      [tokenHmac, clientId, now],
    );
    return count > 0;
  }

  /** RFC 6749 §4.1.2: the families issued from an authorization code that was presented again. */
  async revokeIssuedFromCode(codeHmac: string, now: Date): Promise<void> {
    await this.dataSource.query(
      'UPDATE refresh_token_families SET revoked_at = $2 WHERE authorization_code_hmac = $1 AND revoked_at IS NULL',
      [codeHmac, now],
    );
  }
}
