import { MigrationInterface, QueryRunner } from 'typeorm';

/** The function's text, with `lock` the statement that serialises its callers. */
const createMonthPartition = (lock: string) => `
CREATE OR REPLACE FUNCTION udil.create_month_partition(parent text, month timestamptz) RETURNS boolean
LANGUAGE plpgsql AS $fn$
DECLARE
  first timestamptz := date_trunc('month', month, 'UTC');
  next timestamptz := (date_trunc('month', month AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC';
  partition text := parent || '_p' || to_char(month AT TIME ZONE 'UTC', 'YYYYMM');
  fallback text := parent || '_default';
  key text;
  waiting boolean;
BEGIN
  IF to_regclass(format('udil.%I', partition)) IS NOT NULL THEN RETURN false; END IF;
${lock}
  IF to_regclass(format('udil.%I', partition)) IS NOT NULL THEN RETURN false; END IF;
  SELECT a.attname INTO STRICT key
    FROM pg_partitioned_table p
    JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
   WHERE p.partrelid = format('udil.%I', parent)::regclass;
  waiting := false;
  IF to_regclass(format('udil.%I', fallback)) IS NOT NULL THEN
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM udil.%I WHERE %I >= $1 AND %I < $2)', fallback, key, key)
      INTO waiting USING first, next;
  END IF;
  IF waiting THEN
    -- The month's rows leave DEFAULT for the new partition; meanwhile writers wait on the table's lock.
    EXECUTE format('ALTER TABLE udil.%I DETACH PARTITION udil.%I', parent, fallback);
    EXECUTE format('CREATE TABLE udil.%I PARTITION OF udil.%I FOR VALUES FROM (%L) TO (%L)',
                   partition, parent, first, next);
    EXECUTE format('INSERT INTO udil.%I SELECT * FROM udil.%I WHERE %I >= $1 AND %I < $2',
                   parent, fallback, key, key) USING first, next;
    EXECUTE format('DELETE FROM udil.%I WHERE %I >= $1 AND %I < $2', fallback, key, key) USING first, next;
    EXECUTE format('ALTER TABLE udil.%I ATTACH PARTITION udil.%I DEFAULT', parent, fallback);
  ELSE
    EXECUTE format('CREATE TABLE udil.%I PARTITION OF udil.%I FOR VALUES FROM (%L) TO (%L)',
                   partition, parent, first, next);
  END IF;
  RETURN true;
END
$fn$`;

/** A table lock, whose taking reads the catalog changes committed meanwhile. */
const TABLE_LOCK = `  -- A lock on the table itself, not an advisory lock: taking it makes this transaction read the catalog
  -- changes committed meanwhile, so the check below sees the month another caller just created.
  -- SHARE UPDATE EXCLUSIVE conflicts with itself (one creator at a time), not with readers or writers.
  EXECUTE format('LOCK TABLE udil.%I IN SHARE UPDATE EXCLUSIVE MODE', parent);`;

/** The advisory lock of UdilPartitions1764500000000 (the function as it created it). */
const ADVISORY_LOCK = `  PERFORM pg_advisory_xact_lock(hashtext('udil.create_month_partition'), hashtext(parent));`;

/**
 * `udil.create_month_partition` serialised concurrent callers (two workers, or a worker's start beside its
 * scheduled maintenance) with an advisory lock and then looked again for the month. Waiting for an advisory
 * lock does not make PostgreSQL read the catalog changes committed meanwhile, so the second caller still
 * saw no month, created it again and failed with "relation … already exists" (seen on a fresh worker: the
 * start's pass and the first scheduled pass at once). It now locks the partitioned table itself: taking a
 * table lock reads those changes. Otherwise the function is unchanged (written out whole, as in
 * UdilPartitions1764500000000).
 */
export class UdilPartitionCreationLock1764600000100 implements MigrationInterface {
  name = 'UdilPartitionCreationLock1764600000100';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(createMonthPartition(TABLE_LOCK));
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(createMonthPartition(ADVISORY_LOCK));
  }
}
