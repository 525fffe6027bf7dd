import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { RandomSource } from '../common/random.source';
import type { ConnectionStrategy } from '../verification/connection.entity';

export interface User {
  /** `email|<24 hex>` or `sms|<24 hex>`, Auth0's `<strategy>|<id>` shape. */
  userId: string;
  connection: string;
  strategy: ConnectionStrategy;
  /** Lower-cased email or E.164 number. */
  identifier: string;
  verified: boolean;
}

type UserRow = { user_id: string; connection: string; identifier: string; verified: boolean };

@Injectable()
export class UsersRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly random: RandomSource,
  ) {}

  /**
   * Finds or creates the user of a connection + identifier in one statement (concurrent first logins cannot create
   * two users) and marks the identifier verified: the caller has just proved control of it.
   */
  async loginVerified(connection: string, strategy: ConnectionStrategy, identifier: string, now: Date): Promise<User> {
    const rows: UserRow[] = await this.dataSource.query(
      `INSERT INTO users (user_id, connection, identifier, verified, created_at, last_login_at) VALUES ($1, $2, $3, true, $4, $4)
       ON CONFLICT (connection, identifier) DO UPDATE SET verified = true, last_login_at = EXCLUDED.last_login_at
       RETURNING user_id, connection, identifier, verified`,
      [`${strategy}|${this.random.hex(12)}`, connection, identifier, now],
    );
    return toUser(rows[0]);
  }

  async findById(userId: string): Promise<User | null> {
    const rows: UserRow[] = await this.dataSource.query(
      'SELECT user_id, connection, identifier, verified FROM users WHERE user_id = $1',
      [userId],
    );
    return rows[0] ? toUser(rows[0]) : null;
  }
}

function toUser(row: UserRow): User {
  return {
    userId: row.user_id,
    connection: row.connection,
    strategy: row.user_id.startsWith('sms|') ? 'sms' : 'email',
    identifier: row.identifier,
    verified: row.verified,
  };
}
