/**
 * The FROM source of a query over stored Parquet files: `read_parquet([...])` of an explicit (pruned) file list with
 * hive partition columns typed explicitly (a 12-digit account_id would otherwise be read as a number). The file list
 * is one bound parameter. An empty list becomes an empty relation with the same columns, so a query over no
 * partitions returns no rows instead of failing.
 */
import { HIVE_TYPES_SQL, PARTITION_COLUMNS, STORED_COLUMNS } from '../../domain/flow-schema.ts';
import { raw, sql, type SqlFragment } from '../sql.ts';

const EMPTY_FLOWS = raw(
  `(SELECT ${[...STORED_COLUMNS, ...PARTITION_COLUMNS]
    .map((c) => `CAST(NULL AS ${c.type}) AS ${c.column === 'end' ? '"end"' : c.column}`)
    .join(', ')} WHERE FALSE)`,
);

/** `read_parquet(<files>, hive_partitioning = true, hive_types = {...})`, or an empty flows relation. */
export function parquetSourceSql(absolutePaths: readonly string[]): SqlFragment {
  if (absolutePaths.length === 0) return EMPTY_FLOWS;
  return sql`read_parquet(${absolutePaths}, hive_partitioning = true, hive_types = ${raw(HIVE_TYPES_SQL)})`;
}
