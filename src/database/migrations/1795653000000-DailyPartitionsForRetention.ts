import { MigrationInterface, QueryRunner } from 'typeorm';
import { LIVE_IDS_MARK, START_VERIFICATIONS_SET_BASED } from './1795648000000-SetBasedStartBatch';

/**
 * Verification records and their delivery attempts in daily partitions, so that retention drops a day of data as one
 * table instead of deleting its rows one by one (RETENTION_DAYS, RetentionJob). Both tables are partitioned by the
 * record id's range: ids are time-ordered (creation milliseconds in their first 12 hex digits), so each UTC day is one
 * id range, a lookup by id reads one partition, and the primary key (id) stays the record's. A default partition takes
 * any id outside the days created (ids made before ids were time-ordered, test clocks).
 *
 * "Only the latest code is valid" no longer rests on a unique index (a partitioned table's unique index must include
 * the partition key): start_verifications already serialises each identifier's starts under an advisory lock and
 * supersedes the live record before inserting, and the live-record index stays, non-unique, in every partition.
 * delivery_attempts loses its foreign key to verifications (a day's attempts are dropped with, not before, its
 * records), and so does delivery_outbox: checking a key into a partitioned table is a measurable share of each start
 * (decision 047). An outbox row whose record is gone (its client deleted) is dropped by the relay as not live.
 *
 * The rows already written stay where they are, renamed verifications_legacy and delivery_attempts_legacy, and are
 * dropped by the retention job once their newest row is past retention; the records still in use (unexpired, or
 * waiting in the outbox) and their attempts are copied into the new tables so that no code or message is lost.
 */
export class DailyPartitionsForRetention1795653000000 implements MigrationInterface {
  name = 'DailyPartitionsForRetention1795653000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE delivery_outbox DROP CONSTRAINT delivery_outbox_verification_id_fkey;
      ALTER TABLE verifications RENAME TO verifications_legacy;
      ALTER TABLE verifications_legacy RENAME CONSTRAINT verifications_pkey TO verifications_legacy_pkey;
      ALTER INDEX verifications_created_at RENAME TO verifications_legacy_created_at;
      ALTER INDEX verifications_identifier_created_at RENAME TO verifications_legacy_identifier_created_at;
      ALTER INDEX verifications_one_live_per_identifier RENAME TO verifications_legacy_one_live_per_identifier;
      ALTER INDEX verifications_undelivered RENAME TO verifications_legacy_undelivered;
      ALTER TABLE delivery_attempts RENAME TO delivery_attempts_legacy;
      ALTER TABLE delivery_attempts_legacy RENAME CONSTRAINT delivery_attempts_pkey TO delivery_attempts_legacy_pkey;
      ALTER INDEX delivery_attempts_verification RENAME TO delivery_attempts_legacy_verification;

      CREATE TABLE verifications (LIKE verifications_legacy INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
        PARTITION BY RANGE (id);
      ALTER TABLE verifications ADD CONSTRAINT verifications_pkey PRIMARY KEY (id),
        ADD CONSTRAINT verifications_client_id_fkey FOREIGN KEY (client_id) REFERENCES clients (client_id) ON DELETE CASCADE,
        ADD CONSTRAINT verifications_connection_fkey FOREIGN KEY (connection) REFERENCES connections (name);
      CREATE INDEX verifications_created_at ON verifications (created_at);
      CREATE INDEX verifications_identifier_created_at ON verifications (identifier, created_at);
      CREATE INDEX verifications_live_per_identifier ON verifications (client_id, connection, identifier)
        WHERE consumed_at IS NULL AND superseded_at IS NULL;
      CREATE INDEX verifications_undelivered ON verifications (connection, created_at)
        WHERE delivery_status = 'pending' AND consumed_at IS NULL AND superseded_at IS NULL;
      CREATE TABLE verifications_default PARTITION OF verifications DEFAULT;

      CREATE TABLE delivery_attempts (LIKE delivery_attempts_legacy INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
        PARTITION BY RANGE (verification_id);
      ALTER TABLE delivery_attempts ADD CONSTRAINT delivery_attempts_pkey PRIMARY KEY (verification_id, id);
      ALTER SEQUENCE delivery_attempts_id_seq OWNED BY delivery_attempts.id;
      CREATE TABLE delivery_attempts_default PARTITION OF delivery_attempts DEFAULT;
    `);
    await q.query(`
      -- The lowest id of a record made at p_at: its creation time in milliseconds as 12 hex digits (newRecordId).
      CREATE FUNCTION record_id_at(p_at timestamptz) RETURNS text LANGUAGE sql IMMUTABLE AS $$
        SELECT lpad(to_hex(floor(extract(epoch FROM p_at) * 1000)::bigint), 12, '0')
      $$;

      CREATE FUNCTION ensure_daily_partitions(p_from date, p_to date) RETURNS integer LANGUAGE plpgsql AS $$
      DECLARE
        d date;
        lo text;
        hi text;
        made integer := 0;
      BEGIN
        FOR d IN SELECT generate_series(p_from, p_to, interval '1 day')::date LOOP
          -- The day's ids: from its first UTC millisecond to the next day's, as 12 hex digits.
          lo := record_id_at(d::timestamp AT TIME ZONE 'UTC');
          hi := record_id_at((d + 1)::timestamp AT TIME ZONE 'UTC');
          -- A day whose rows already sit in a default partition (no pass ran for days) stays there, deleted by date:
          -- creating its partition would fail, and with it the whole pass.
          CONTINUE WHEN EXISTS (SELECT 1 FROM verifications_default WHERE id >= lo::bpchar AND id < hi::bpchar)
                     OR EXISTS (SELECT 1 FROM delivery_attempts_default
                                 WHERE verification_id >= lo::bpchar AND verification_id < hi::bpchar);
          IF to_regclass('verifications_p' || to_char(d, 'YYYYMMDD')) IS NULL THEN
            EXECUTE format('CREATE TABLE %I PARTITION OF verifications FOR VALUES FROM (%L) TO (%L)',
                           'verifications_p' || to_char(d, 'YYYYMMDD'), lo, hi);
            made := made + 1;
          END IF;
          IF to_regclass('delivery_attempts_p' || to_char(d, 'YYYYMMDD')) IS NULL THEN
            EXECUTE format('CREATE TABLE %I PARTITION OF delivery_attempts FOR VALUES FROM (%L) TO (%L)',
                           'delivery_attempts_p' || to_char(d, 'YYYYMMDD'), lo, hi);
          END IF;
        END LOOP;
        RETURN made;
      END
      $$;

      -- Drops the days before p_before (UTC), attempts first, and the outbox rows left pointing into them (a relay
      -- empties the outbox within seconds, so there are none but after a long outage); returns the days dropped.
      CREATE FUNCTION drop_daily_partitions_before(p_before date) RETURNS integer LANGUAGE plpgsql AS $$
      DECLARE
        p record;
        dropped integer := 0;
      BEGIN
        FOR p IN SELECT c.relname, substr(c.relname, 16) AS day
                   FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                  WHERE i.inhparent = 'verifications'::regclass AND c.relname ~ '^verifications_p[0-9]{8}$'
                    AND to_date(substr(c.relname, 16), 'YYYYMMDD') < p_before
                  ORDER BY c.relname LOOP
          DELETE FROM delivery_outbox
           WHERE verification_id >= record_id_at(to_date(p.day, 'YYYYMMDD')::timestamp AT TIME ZONE 'UTC')::bpchar
             AND verification_id < record_id_at((to_date(p.day, 'YYYYMMDD') + 1)::timestamp AT TIME ZONE 'UTC')::bpchar;
          EXECUTE format('DROP TABLE IF EXISTS %I', 'delivery_attempts_p' || p.day);
          EXECUTE format('ALTER TABLE verifications DETACH PARTITION %I', p.relname);
          EXECUTE format('DROP TABLE %I', p.relname);
          dropped := dropped + 1;
        END LOOP;
        RETURN dropped;
      END
      $$;
    `);
    // Superseding reads only the ids a live record can have, as findLive does (liveRecordIds: a day back, an hour
    // ahead), so it probes today's and yesterday's partitions rather than every day kept.
    await q.query(
      START_VERIFICATIONS_SET_BASED.replace(
        LIVE_IDS_MARK,
        `AND id >= record_id_at(k.now - interval '1 day')::bpchar AND id < record_id_at(k.now + interval '1 hour')::bpchar`,
      ),
    );
    // Its statements keep one generic plan (pruned when it runs): a custom plan is costed on the partitions it keeps,
    // so against the generic plan's estimate over every partition Postgres would plan each call afresh.
    await q.query('ALTER FUNCTION start_verifications(jsonb) SET plan_cache_mode = force_generic_plan');
    // Today and the next days, so the first starts after the migration already land in their day.
    await q.query(
      `SELECT ensure_daily_partitions((now() AT TIME ZONE 'UTC')::date - 1, (now() AT TIME ZONE 'UTC')::date + 3)`,
    );
    await q.query(`
      INSERT INTO verifications
      SELECT * FROM verifications_legacy v
       WHERE v.expires_at > now() - interval '1 day'
          OR v.id IN (SELECT verification_id FROM delivery_outbox);
      INSERT INTO delivery_attempts
      SELECT a.* FROM delivery_attempts_legacy a WHERE a.verification_id IN (SELECT id FROM verifications);
    `);
  }

  public down(): Promise<void> {
    // Going back would mean rebuilding both tables without partitions from every day kept: restore a backup instead.
    return Promise.reject(
      new Error('DailyPartitionsForRetention cannot be reverted; restore the database from a backup taken before it'),
    );
  }
}
