import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { GroupCommit } from '../common/group-commit';
import { isItemSpecificDbError } from '../database/pg-errors';
import { DataSource, EntityManager, Repository } from 'typeorm';
import { FailureFloorReached, type FailureFloor } from './failure-floor';
import { liveRecordIds, recordIdAt } from './record-id';
import { VerificationEntity } from './verification.entity';

/** Bounds one batched start statement (each item is well under 1 kB of JSON). */
const START_BATCH_SIZE = 100;

/** One start as the start_verifications() function reads it (snake_case JSON keys). */
interface StartWrite {
  id: string;
  client_id: string;
  connection: string;
  identifier: string;
  send: string;
  code_hmac: string;
  link_token_hmac: string | null;
  auth_params: Record<string, string>;
  request_language: string | null;
  expires_at: Date;
  request_ip: string | null;
  now: Date;
  queue: string;
  payload: object;
}

/** The delivery job written in the start's transaction; its shape belongs to the delivery folder. */
export interface OutboxWrite {
  queue: string;
  payload: object;
}

export type NewVerification = Omit<
  VerificationEntity,
  | 'failedAttempts'
  | 'consumedAt'
  | 'supersededAt'
  | 'deliveryStatus'
  | 'deliveredAt'
  | 'providerMessageId'
  | 'createdAt'
>;

export interface SettleAttempt {
  matched: boolean;
  maxAttempts: number;
  now: Date;
  /** Spend the record when the secret matched, and log its user in (see settleAttempt); without, only count. */
  login?: { newUserId: string };
}

/** A users row: the one a spent record logged in, as the statement returns it (UsersRepository reads the same). */
export interface UserLoginRow {
  user_id: string;
  connection: string;
  identifier: string;
  verified: boolean;
}

type Nullable<T> = { [K in keyof T]: T[K] | null };

export interface SettledAttempt {
  settled: boolean;
  /** Present when the attempt spent the record and `login` was asked for. */
  login?: UserLoginRow;
}

@Injectable()
export class VerificationsRepository {
  private readonly startWrites: GroupCommit<StartWrite>;
  /**
   * `"client_id" AS "clientId", …`: pg already returns each column as its property's type (Date, object, number). Only
   * right while the entity has plain columns (no transformers, relations or `select: false`); an e2e test compares
   * findLive with TypeORM's own hydration.
   */
  private readonly entityColumns: string;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectRepository(VerificationEntity) private readonly verifications: Repository<VerificationEntity>,
  ) {
    this.entityColumns = verifications.metadata.columns
      .map((column) => `"${column.databaseName}" AS "${column.propertyName}"`)
      .join(', ');
    this.startWrites = new GroupCommit((items) => this.writeStarts(items), START_BATCH_SIZE, {
      retryItemsAlone: isItemSpecificDbError,
    });
  }

  /**
   * Atomically (see the StartVerificationFunction migration): supersede the live record for this client + connection +
   * identifier (Auth0: only the latest code is valid), insert the new record and its outbox row. A transaction-scoped
   * advisory lock on the identifier serialises concurrent starts for it, which is what keeps one live record per
   * identifier (the table's daily partitions cannot have a unique index across them). Starts that arrive while a
   * write is in flight share the next statement and commit (group commit); resolves once this start is committed.
   */
  createSupersedingPrevious(record: NewVerification, outbox: OutboxWrite, now: Date): Promise<void> {
    return this.startWrites.submit({
      id: record.id,
      client_id: record.clientId,
      connection: record.connection,
      identifier: record.identifier,
      send: record.send,
      code_hmac: record.codeHmac,
      link_token_hmac: record.linkTokenHmac,
      auth_params: record.authParams,
      request_language: record.requestLanguage,
      expires_at: record.expiresAt,
      request_ip: record.requestIp,
      now,
      queue: outbox.queue,
      payload: outbox.payload,
    });
  }

  /**
   * One statement for the batch (see the SetBasedStartBatch migration). Sorted by lock key (a stable sort keeps
   * one identifier's starts in arrival order) so that concurrent start batches lock in the same order and cannot
   * deadlock each other. A worker's grouped success write locks the same rows in id order, so it can deadlock with a
   * start batch; Postgres then aborts one side after deadlock_timeout and the item-by-item retry (40P01) recovers it.
   */
  private async writeStarts(items: StartWrite[]): Promise<void> {
    const keyed = items.map((item) => ({ key: `${item.client_id}|${item.connection}|${item.identifier}`, item }));
    keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    await this.dataSource.query('SELECT start_verifications($1::jsonb)', [
      JSON.stringify(keyed.map(({ item }) => item)),
    ]);
  }

  findById(id: string): Promise<VerificationEntity | null> {
    return this.verifications.findOneBy({ id });
  }

  /**
   * The latest record for an identifier, if it is still pending (starts keep at most one), among the ids a live
   * record can have (liveRecordIds: the other days' partitions are not read). Raw SQL with the entity's columns
   * aliased to its property names: the token exchange runs this on every login, and the query builder's building and
   * hydration are a measurable share of it (docs/decisions/013-raw-sql-on-hot-paths.md).
   */
  async findLive(
    clientId: string,
    connection: string,
    identifier: string,
    now: Date,
  ): Promise<VerificationEntity | null> {
    const ids = liveRecordIds(now);
    const rows: VerificationEntity[] = await this.dataSource.query(
      `SELECT ${this.entityColumns} FROM verifications
        WHERE client_id = $1 AND connection = $2 AND identifier = $3 AND consumed_at IS NULL AND superseded_at IS NULL
          AND id >= $4::bpchar AND id < $5::bpchar`,
      [clientId, connection, identifier, ids.from, ids.to],
    );
    return rows[0] ? Object.assign(new VerificationEntity(), rows[0]) : null;
  }

  /**
   * Settles one attempt at a record's secret, already compared by the caller (the code's HMAC never changes): a wrong
   * secret counts a failed attempt, a right one spends the record when `login` is set. One conditional UPDATE, and
   * Postgres re-checks its WHERE clause after waiting for the row lock, so concurrent attempts can never take the
   * counter past `maxAttempts`, and only one attempt can move consumed_at from NULL (a code never redeems twice).
   * `settled` is false when the record is no longer redeemable (spent, superseded, expired or out of attempts): the
   * outcome of the comparison then counts for nothing.
   *
   * A spent record also logs its user in within the same statement, so a login is one commit: the
   * connection's user for the identifier is found or created (`login.newUserId`; concurrent first logins cannot create
   * two users) and marked verified, as the caller has just proved control of the identifier.
   */
  async settleAttempt(
    id: string,
    attempt: SettleAttempt,
    floor?: FailureFloor & { connection: string; identifier: string },
  ): Promise<SettledAttempt> {
    if (floor) return this.settleUnderFloor(id, attempt, floor);
    return this.settle(this.dataSource, id, attempt);
  }

  /**
   * Failed attempts at an identifier's codes (all clients) since `since`, and when the oldest record that has any was
   * created: the Postgres floor of the per-identifier failure limit while Redis is unavailable.
   */
  async failuresSince(
    connection: string,
    identifier: string,
    since: Date,
    db: DataSource | EntityManager = this.dataSource,
  ): Promise<{ failures: number; oldestAt: Date | null }> {
    const [row] = await db.query<Array<{ failures: number; oldest_at: Date | null }>>(
      `SELECT coalesce(sum(failed_attempts), 0)::int AS failures,
              min(created_at) FILTER (WHERE failed_attempts > 0) AS oldest_at
         FROM verifications WHERE identifier = $1 AND connection = $2 AND created_at > $3 AND id >= $4::bpchar`,
      [identifier, connection, since, recordIdAt(since)],
    );
    return { failures: row.failures, oldestAt: row.oldest_at };
  }

  /** Starts for an identifier (all clients and connections) since `since`, the oldest and the latest. */
  async startsSince(
    identifier: string,
    since: Date,
  ): Promise<{ starts: number; oldestAt: Date | null; latestAt: Date | null }> {
    const [row] = await this.dataSource.query<
      Array<{ starts: number; oldest_at: Date | null; latest_at: Date | null }>
    >(
      `SELECT count(*)::int AS starts, min(created_at) AS oldest_at, max(created_at) AS latest_at
         FROM verifications WHERE identifier = $1 AND created_at > $2 AND id >= $3::bpchar`,
      [identifier, since, recordIdAt(since)],
    );
    return { starts: row.starts, oldestAt: row.oldest_at, latestAt: row.latest_at };
  }

  /**
   * settleAttempt while the Redis limits are unavailable: attempts at one identifier take turns under a transaction
   * advisory lock, and an attempt counts only while the identifier's failures in the window are under the limit, so
   * concurrent guesses on any number of replicas cannot pass it. Throws FailureFloorReached otherwise.
   */
  private async settleUnderFloor(
    id: string,
    attempt: SettleAttempt,
    floor: FailureFloor & { connection: string; identifier: string },
  ): Promise<SettledAttempt> {
    return this.dataSource.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended('otp-floor|' || $1 || '|' || $2, 0))`, [
        floor.connection,
        floor.identifier,
      ]);
      const { failures, oldestAt } = await this.failuresSince(floor.connection, floor.identifier, floor.since, tx);
      if (failures >= floor.limit) {
        const retryAt = (oldestAt ?? attempt.now).getTime() + (attempt.now.getTime() - floor.since.getTime());
        throw new FailureFloorReached(floor.limit, retryAt);
      }
      return this.settle(tx, id, attempt);
    });
  }

  private async settle(db: DataSource | EntityManager, id: string, attempt: SettleAttempt): Promise<SettledAttempt> {
    const [row] = await db.query<Array<{ settled: number } & Nullable<UserLoginRow>>>(
      `WITH settled AS (
         UPDATE verifications
            SET failed_attempts = failed_attempts + CASE WHEN $2::boolean THEN 0 ELSE 1 END,
                consumed_at = CASE WHEN $2::boolean AND $3::boolean THEN $5::timestamptz ELSE consumed_at END
          WHERE id = $1 AND consumed_at IS NULL AND superseded_at IS NULL AND expires_at > $5::timestamptz
            AND failed_attempts < $4
          RETURNING connection, identifier, consumed_at IS NOT NULL AS spent
       ), login AS (
         INSERT INTO users (user_id, connection, identifier, verified, created_at, last_login_at)
         SELECT $6::text, connection, identifier, true, $5::timestamptz, $5::timestamptz
           FROM settled WHERE spent
             ON CONFLICT (connection, identifier) DO UPDATE SET verified = true, last_login_at = EXCLUDED.last_login_at
         RETURNING user_id, connection, identifier, verified
       )
       SELECT (SELECT count(*) FROM settled)::int AS settled, login.* FROM (SELECT 1) AS one LEFT JOIN login ON true`,
      [
        id,
        attempt.matched,
        attempt.login !== undefined,
        attempt.maxAttempts,
        attempt.now,
        attempt.login?.newUserId ?? null,
      ],
    );
    const { settled, ...user } = row;
    // The LEFT JOIN gives a row of NULLs when no user was logged in, and a whole users row when one was.
    return user.user_id === null ? { settled: settled === 1 } : { settled: settled === 1, login: user as UserLoginRow };
  }
}
