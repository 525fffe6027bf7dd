import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { RandomSource } from '../common/random.source';
import type { ConnectionStrategy } from '../verification/connection.entity';
import type { UserLoginRow as UserRow } from '../verification/verifications.repository';

export interface User {
  /** `email|<24 hex>` or `sms|<24 hex>`, Auth0's `<strategy>|<id>` shape. */
  userId: string;
  connection: string;
  strategy: ConnectionStrategy;
  /** Lower-cased email or E.164 number. */
  identifier: string;
  verified: boolean;
}

@Injectable()
export class UsersRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly random: RandomSource,
  ) {}

  /**
   * A new user's id, Auth0's `<strategy>|<id>` shape; the login that creates the user stores it
   * (VerificationsRepository.settleAttempt).
   */
  newUserId(strategy: ConnectionStrategy): string {
    return `${strategy}|${this.random.hex(12)}`;
  }

  async findById(userId: string): Promise<User | null> {
    const rows: UserRow[] = await this.dataSource.query(
      'SELECT user_id, connection, identifier, verified FROM users WHERE user_id = $1',
      [userId],
    );
    return rows[0] ? toUser(rows[0]) : null;
  }
}

export function toUser(row: UserRow): User {
  return {
    userId: row.user_id,
    connection: row.connection,
    strategy: row.user_id.startsWith('sms|') ? 'sms' : 'email',
    identifier: row.identifier,
    verified: row.verified,
  };
}
