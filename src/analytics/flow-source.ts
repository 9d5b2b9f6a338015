/**
 * Where connection analytics read raw flow records from: a list of flows Parquet files (from the manifest, already
 * pruned to the partitions of interest) and a WHERE fragment over their columns.
 */
import { HIVE_TYPES_SQL } from '../domain/flow-schema.ts';
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
}

/** `(SELECT * FROM read_parquet(files) WHERE where)`; an empty file list reads as no rows. */
export function flowScanSql(source: FlowSource): SqlFragment {
  return sql`(SELECT * FROM ${parquetSourceSql(source.files)} WHERE ${source.where ?? raw('TRUE')})`;
}

/** `read_parquet(...)` over a non-empty bound list of derived-table files, with typed hive partition columns. */
export function derivedScanSql(files: readonly string[], emptyRelation: SqlFragment): SqlFragment {
  if (files.length === 0) return emptyRelation;
  return sql`read_parquet(${files}, hive_partitioning = true, hive_types = ${raw(HIVE_TYPES_SQL)})`;
}
