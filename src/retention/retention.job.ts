import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { affectedRows } from '../database/affected-rows';

/** Every replica contends for the same transaction advisory lock: one pass at a time, the others skip theirs. */
const RETENTION_LOCK_KEY = 724_104_312;
/** Partitions are made this many days ahead, so a day's first start never waits for one. */
const DAYS_AHEAD = 3;
/**
 * Creating and detaching a partition lock the table for a moment; a pass that cannot get the lock soon gives up until
 * its next run rather than queue the requests behind it.
 */
const LOCK_TIMEOUT_MS = 1000;
const FIRST_RUN_DELAY_MS = 5000;
const DAY_MS = 86_400_000;
/**
 * Deleted row by row, past the cutoff: records whose id fell outside the daily partitions (ids made before ids were
 * time-ordered), and the tables written only by browser logins, whose rows are few and expire.
 */
const ROW_DELETES = [
  'DELETE FROM delivery_attempts_default WHERE finished_at < $1',
  'DELETE FROM verifications_default WHERE created_at < $1',
  'DELETE FROM authorization_codes WHERE expires_at < $1',
  'DELETE FROM refresh_token_families WHERE expires_at < $1 OR revoked_at < $1',
];

export interface RetentionPass {
  partitionsCreated: number;
  daysDropped: number;
  /** Rows deleted one by one: stray records in the default partitions, expired codes and refresh-token families. */
  rowsDeleted: number;
  legacyDropped: boolean;
}

/**
 * Keeps login data for RETENTION_DAYS: verification records and delivery attempts live in daily partitions (the
 * DailyPartitionsForRetention migration), so a day past retention is dropped as a table; the low-volume tables whose
 * rows expire (authorization codes, refresh-token families) are deleted past retention by an indexed DELETE. Users are
 * kept. Runs in the relay role, on any number of replicas.
 */
@Injectable()
export class RetentionJob implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Retention');
  private timers: NodeJS.Timeout[] = [];

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    const run = () =>
      void this.run().catch((err: unknown) => this.logger.warn(`Retention pass failed: ${message(err)}`));
    this.timers = [setTimeout(run, FIRST_RUN_DELAY_MS), setInterval(run, this.config.retention.intervalMs)];
    this.timers.forEach((timer) => timer.unref());
  }

  onApplicationShutdown(): void {
    this.timers.forEach((timer) => clearTimeout(timer));
  }

  /** One pass; undefined when another replica's pass holds the lock. */
  async run(): Promise<RetentionPass | undefined> {
    const now = this.clock.now();
    const cutoff = new Date(now.getTime() - this.config.retention.days * DAY_MS);
    const pass = await this.dataSource.transaction(async (tx) => {
      await tx.query(`SET LOCAL lock_timeout = ${LOCK_TIMEOUT_MS}`);
      const [{ locked }] = await tx.query<Array<{ locked: boolean }>>(
        'SELECT pg_try_advisory_xact_lock($1) AS locked',
        [RETENTION_LOCK_KEY],
      );
      if (!locked) return undefined;
      return this.pass(tx, now, cutoff);
    });
    if (pass && (pass.daysDropped > 0 || pass.legacyDropped || pass.partitionsCreated > 0))
      this.logger.log(
        `Retention: ${pass.partitionsCreated} day(s) prepared, ${pass.daysDropped} day(s) dropped` +
          `${pass.legacyDropped ? ', the pre-partitioning tables dropped' : ''}, ${pass.rowsDeleted} row(s) deleted`,
      );
    return pass;
  }

  private async pass(tx: EntityManager, now: Date, cutoff: Date): Promise<RetentionPass> {
    const today = utcDay(now);
    const [{ made }] = await tx.query<Array<{ made: number }>>(
      `SELECT ensure_daily_partitions($1::date - 1, $1::date + ${DAYS_AHEAD}) AS made`,
      [today],
    );
    // A day is dropped once all of it is past the cutoff: data is kept for RETENTION_DAYS, at most a day longer.
    const [{ dropped }] = await tx.query<Array<{ dropped: number }>>(
      'SELECT drop_daily_partitions_before($1::date) AS dropped',
      [utcDay(cutoff)],
    );
    let rowsDeleted = 0;
    for (const sql of ROW_DELETES) rowsDeleted += await affectedRows(tx, sql, [cutoff]);
    return {
      partitionsCreated: made,
      daysDropped: dropped,
      rowsDeleted,
      legacyDropped: await this.dropLegacy(tx, cutoff),
    };
  }

  /** The tables the partitioning migration set aside, once their newest row is past retention. */
  private async dropLegacy(tx: EntityManager, cutoff: Date): Promise<boolean> {
    const [{ present }] = await tx.query<Array<{ present: boolean }>>(
      `SELECT to_regclass('verifications_legacy') IS NOT NULL AS present`,
    );
    if (!present) return false;
    const recent = await tx.query<unknown[]>('SELECT 1 FROM verifications_legacy WHERE created_at >= $1 LIMIT 1', [
      cutoff,
    ]);
    if (recent.length > 0) return false;
    await tx.query('DROP TABLE delivery_attempts_legacy, verifications_legacy');
    return true;
  }
}

const utcDay = (at: Date): string => at.toISOString().slice(0, 10);
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));
