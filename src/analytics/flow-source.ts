/**
 * Where connection analytics read raw flow records from: a list of flows Parquet files (from the manifest, already
 * pruned to the partitions of interest) and a WHERE fragment over their columns.
 */
import { HIVE_TYPES_SQL, ORG_HIVE_TYPES_SQL } from '../domain/flow-schema.ts';
import { parquetSourceSql } from '../store/queries/parquet-source-query.ts';
import { raw, sql, type SqlFragment } from '../store/sql.ts';

/** Raw flow records to analyse. `where` should restrict partitions and time only: pairing needs every record. */
export interface FlowSource {
  readonly files: readonly string[];
  readonly where?: SqlFragment;
  /**
   * Read the files again wherever the records are used instead of holding them in memory once read
   * (normalized-records-query.ts): for sources too large to hold, at the price of reading Parquet metadata a dozen
   * times per statement, which dominates on small sources.
   */
  readonly stream?: boolean;
  /**
   * Derive per hour (derive-tables.ts): each record is read once for every listed hour (an epoch hour number) whose
   * span widened by `contextSeconds` holds its start, as column `unit`, and every rule is applied within one unit, so
   * the rows of an hour are the same whichever other hours one statement derives with it. Absent, every record is in
   * unit 0: the rules see the whole source at once (the API's reads of raw records).
   */
  readonly units?: {
    readonly hours: readonly number[];
    readonly contextSeconds: number;
    /** Files of the hours' days whose records include some without flow-direction (normalized-records-query.ts). */
    readonly ownAddressFiles: readonly string[];
  };
}

/** `(SELECT * FROM read_parquet(files) WHERE where)`; an empty file list reads as no rows. */
export function flowScanSql(source: FlowSource): SqlFragment {
  return sql`(SELECT * FROM ${parquetSourceSql(source.files)} WHERE ${source.where ?? raw('TRUE')})`;
}

/** `read_parquet(...)` over a non-empty bound list of derived-table files, with typed hive partition columns. */
export function derivedScanSql(
  files: readonly string[],
  emptyRelation: SqlFragment,
  layout: 'account' | 'org' = 'account',
): SqlFragment {
  if (files.length === 0) return emptyRelation;
  const types = layout === 'org' ? ORG_HIVE_TYPES_SQL : HIVE_TYPES_SQL;
  // By name: files derived before a column was added (the ends' accounts) read it as NULL until they are derived again.
  return sql`read_parquet(${files}, hive_partitioning = true, hive_types = ${raw(types)}, union_by_name = true)`;
}
