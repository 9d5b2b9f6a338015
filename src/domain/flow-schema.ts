/**
 * The stored flow record: every field of the field table as a Parquet column, plus the partition and provenance
 * columns flowql adds. Parser, Parquet writer and readers all take their column list from here.
 */
import { FIELDS, type FieldKind } from './fields.ts';

/** DuckDB/Parquet type of each field kind. `epoch` fields are stored as UTC timestamps. */
export const DUCKDB_TYPE: Readonly<Record<FieldKind, string>> = {
  string: 'VARCHAR',
  int32: 'INTEGER',
  int64: 'BIGINT',
  epoch: 'TIMESTAMP',
};

/**
 * Hive partition columns, in path order: `account_id=<id>/region=<region>/date=<YYYY-MM-DD>`.
 * - account_id: the record's `account-id` when it is a 12-digit account, otherwise the account of the S3 key (the
 *   flow log's owner), otherwise `unknown`. Access control follows this column.
 * - region: the record's `region`, otherwise the key's region, otherwise `unknown`.
 * - date: UTC date of `start_time` (of `end_time` when start is missing).
 * They are not stored inside the Parquet files; DuckDB reads them from the path with explicit `hive_types`.
 */
export const PARTITION_COLUMNS = [
  { column: 'account_id', type: 'VARCHAR' },
  { column: 'region', type: 'VARCHAR' },
  { column: 'date', type: 'DATE' },
] as const;

export const HIVE_TYPES_SQL = "{'account_id': VARCHAR, 'region': VARCHAR, 'date': DATE}";

/** The same for the org tables, partitioned without an account (src/store/layout.ts ORG_TABLES). */
export const ORG_HIVE_TYPES_SQL = "{'region': VARCHAR, 'date': DATE}";

/** Columns flowql adds to every stored record, beyond AWS's fields. */
export const PROVENANCE_COLUMNS = [
  {
    column: 'flow_id',
    type: 'BIGINT',
    description: 'Unique record id: source_id * 2^32 + source_line. Tie-breaker for keyset paging.',
  },
  { column: 'source_id', type: 'INTEGER', description: 'Ledger id of the object the record came from.' },
  {
    column: 'source_line',
    type: 'INTEGER',
    description: 'Line number in that object (the header is line 1; Parquet row number + 1).',
  },
  {
    column: 'source_account_id',
    type: 'VARCHAR',
    description: 'Account in the S3 key that delivered the record (the flow log owner), when known.',
  },
  {
    column: 'extra',
    type: 'MAP(VARCHAR, VARCHAR)',
    description: 'Fields of unknown (future) versions, by AWS name, as text.',
  },
] as const;

const PARTITION_SET = new Set<string>(PARTITION_COLUMNS.map((p) => p.column));

/** Columns physically stored in each flows Parquet file, in file order (partition columns excluded). */
export const STORED_COLUMNS: readonly { column: string; type: string }[] = [
  ...FIELDS.filter((f) => !PARTITION_SET.has(f.column)).map((f) => ({ column: f.column, type: DUCKDB_TYPE[f.kind] })),
  ...PROVENANCE_COLUMNS.map(({ column, type }) => ({ column, type })),
];

/** Every column a reader sees (stored + partition), the allow-list for SQL identifiers over flows. */
export const READABLE_COLUMNS: ReadonlySet<string> = new Set([
  ...STORED_COLUMNS.map((c) => c.column),
  ...PARTITION_COLUMNS.map((p) => p.column),
]);
