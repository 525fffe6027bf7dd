import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { affectedRows } from '../database/affected-rows';
import { isTimedOutDbError } from '../database/pg-errors';

/** Every replica contends for the same transaction advisory lock: one pass at a time, the others skip theirs. */
const RETENTION_LOCK_KEY = 724_104_312;
/** Partitions are made this many days ahead, so a day's first start never waits for one. */
const DAYS_AHEAD = 3;
/**
 * Creating, detaching and dropping tables lock them, and the tables their foreign keys reference, for a moment. A step
 * that cannot get its locks soon gives up until the next pass rather than queue the requests behind it, and it gives
 * up before Postgres's deadlock_timeout (1 s by default): when a step and a request wait on each other, the step is
 * cancelled first, so the request only waits, and is never the deadlock's victim.
 */
const LOCK_TIMEOUT_MS = 200;
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
  /** Steps that could not get their locks (or ran out of time) and are left to the next pass. */
  deferred: string[];
}

/** What became of a step: done, skipped (another replica's pass holds the lock), or left to the next pass. */
type StepOutcome = 'done' | 'locked' | 'deferred';

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

  /**
   * One pass; undefined when another replica's pass holds the lock. Each step commits on its own, so the locks one
   * takes are not held through the others, and a step that has to wait is retried next pass without undoing the rest.
   */
  async run(): Promise<RetentionPass | undefined> {
    const now = this.clock.now();
    const cutoff = new Date(now.getTime() - this.config.retention.days * DAY_MS);
    const today = utcDay(now);
    const pass: RetentionPass = {
      partitionsCreated: 0,
      daysDropped: 0,
      rowsDeleted: 0,
      legacyDropped: false,
      deferred: [],
    };
    const steps: Array<[string, (tx: EntityManager) => Promise<void>]> = [
      [
        'prepare days',
        async (tx) => {
          const [{ made }] = await tx.query<Array<{ made: number }>>(
            `SELECT ensure_daily_partitions($1::date - 1, $1::date + ${DAYS_AHEAD}) AS made`,
            [today],
          );
          pass.partitionsCreated = made;
        },
      ],
      [
        // A day is dropped once all of it is past the cutoff: data is kept for RETENTION_DAYS, at most a day longer.
        'drop days',
        async (tx) => {
          const [{ dropped }] = await tx.query<Array<{ dropped: number }>>(
            'SELECT drop_daily_partitions_before($1::date) AS dropped',
            [utcDay(cutoff)],
          );
          pass.daysDropped = dropped;
        },
      ],
      [
        'delete rows',
        async (tx) => {
          for (const sql of ROW_DELETES) pass.rowsDeleted += await affectedRows(tx, sql, [cutoff]);
        },
      ],
      ['drop pre-partitioning tables', async (tx) => void (pass.legacyDropped = await this.dropLegacy(tx, cutoff))],
    ];
    for (const [index, [name, work]] of steps.entries()) {
      const outcome = await this.step(work);
      // Another replica's pass is in a step right now: it goes on with the rest (every step may run twice).
      if (outcome === 'locked') return index === 0 ? undefined : pass;
      if (outcome === 'deferred') pass.deferred.push(name);
    }
    if (pass.daysDropped > 0 || pass.legacyDropped || pass.partitionsCreated > 0 || pass.deferred.length > 0)
      this.logger.log(summary(pass));
    return pass;
  }

  /** One step in its own transaction, under the retention lock and the short lock timeout. */
  private async step(work: (tx: EntityManager) => Promise<void>): Promise<StepOutcome> {
    try {
      return await this.dataSource.transaction(async (tx): Promise<StepOutcome> => {
        await tx.query(`SET LOCAL lock_timeout = ${LOCK_TIMEOUT_MS}`);
        const [{ locked }] = await tx.query<Array<{ locked: boolean }>>(
          'SELECT pg_try_advisory_xact_lock($1) AS locked',
          [RETENTION_LOCK_KEY],
        );
        if (!locked) return 'locked';
        await work(tx);
        return 'done';
      });
    } catch (err) {
      // Its lock or statement timeout: left to the next pass.
      if (isTimedOutDbError(err)) return 'deferred';
      throw err;
    }
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

function summary(pass: RetentionPass): string {
  const parts = [`${pass.partitionsCreated} day(s) prepared`, `${pass.daysDropped} day(s) dropped`];
  if (pass.legacyDropped) parts.push('the pre-partitioning tables dropped');
  parts.push(`${pass.rowsDeleted} row(s) deleted`);
  const deferred = pass.deferred.length > 0 ? `; left to the next pass (timed out): ${pass.deferred.join(', ')}` : '';
  return `Retention: ${parts.join(', ')}${deferred}`;
}

const utcDay = (at: Date): string => at.toISOString().slice(0, 10);
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));
