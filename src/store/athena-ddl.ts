/**
 * `CREATE EXTERNAL TABLE` for Athena (and Trino/Spark with a Hive metastore) over a warehouse's flows (or their hourly
 * or daily sums, flows_hourly and flows_daily, which have the same columns) on S3, with partition projection so new partitions are queryable at once, without
 * `MSCK REPAIR TABLE` or a Glue crawler. The columns come from STORED_COLUMNS (HOURLY_STORED_COLUMNS), so the DDL
 * follows the field table.
 */
import { PARTITION_COLUMNS, STORED_COLUMNS } from '../domain/flow-schema.ts';
import { partitionDir } from './layout.ts';
import { HOURLY_STORED_COLUMNS } from './queries/flows-hourly-query.ts';

/** What to generate the DDL for. */
export interface AthenaDdlOptions {
  /** The warehouse root, `s3://bucket/prefix` (the same value as `flowql ingest --data`). */
  readonly location: string;
  /**
   * Which table: the flow records (default), their hourly sums (flows_hourly, src/store/queries/flows-hourly-query.ts)
   * or daily sums (flows_daily: only the days `flowql compact` wrote, flows-daily-query.ts).
   */
  readonly source?: 'flows' | 'flows_hourly' | 'flows_daily';
  /** Table name, optionally `database.table`. Default `flowql_<source>` (`flowql_flows`, `flowql_flows_hourly`...). */
  readonly table?: string;
  /** Accounts to project as an enum; absent: `injected` (every query must then name its account(s)). */
  readonly accounts?: readonly string[];
  /** Regions to project as an enum; absent: `injected`. */
  readonly regions?: readonly string[];
  /** First date of the projected range, YYYY-MM-DD; the range ends at NOW. */
  readonly from?: string;
}

/** DuckDB storage types mapped to Hive/Athena DDL types (Athena reads DuckDB's Parquet physical types with these). */
const ATHENA_TYPE: Readonly<Record<string, string>> = {
  VARCHAR: 'string',
  INTEGER: 'int',
  BIGINT: 'bigint',
  TIMESTAMP: 'timestamp',
  'MAP(VARCHAR, VARCHAR)': 'map<string,string>',
};

const ACCOUNT = /^(\d{12}|unknown)$/;
const REGION = /^([a-z]{2}(-[a-z]+)+-\d+|unknown)$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const NAME = /^[a-z_][a-z0-9_]*$/;

/** The default first day of the projection: VPC Flow Logs launched in 2015. */
export const DEFAULT_PROJECTION_FROM = '2015-01-01';

/** Athena type of a stored column; a type with no mapping is a programming error (a new kind in flow-schema). */
export function athenaType(duckdbType: string): string {
  const t = ATHENA_TYPE[duckdbType];
  if (t === undefined) throw new Error(`no Athena type for DuckDB type ${duckdbType}`);
  return t;
}

function validDay(day: string): boolean {
  if (!DAY.test(day)) return false;
  const d = new Date(`${day}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === day;
}

/** Every problem with the options, each naming the option and what was expected (empty when valid). */
export function validateAthenaDdlOptions(opts: AthenaDdlOptions): string[] {
  const problems: string[] = [];
  if (!/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[^'"\\\s]*)?$/.test(opts.location)) {
    problems.push(`--data: expected an S3 warehouse location s3://bucket/prefix, got ${JSON.stringify(opts.location)}`);
  }
  const table = tableName(opts);
  const parts = table.split('.');
  if (parts.length > 2 || !parts.every((p) => NAME.test(p))) {
    problems.push(
      `--table: expected [database.]table in lower case letters, digits and _, got ${JSON.stringify(table)}`,
    );
  }
  for (const a of opts.accounts ?? []) {
    if (!ACCOUNT.test(a))
      problems.push(`--accounts: expected 12-digit account ids (or unknown), got ${JSON.stringify(a)}`);
  }
  if (opts.accounts !== undefined && opts.accounts.length === 0)
    problems.push('--accounts: expected at least one account id');
  for (const r of opts.regions ?? []) {
    if (!REGION.test(r))
      problems.push(`--regions: expected region codes like us-east-1 (or unknown), got ${JSON.stringify(r)}`);
  }
  if (opts.regions !== undefined && opts.regions.length === 0) problems.push('--regions: expected at least one region');
  if (opts.from !== undefined && !validDay(opts.from)) {
    problems.push(`--from: expected a date YYYY-MM-DD, got ${JSON.stringify(opts.from)}`);
  }
  return problems;
}

const tableName = (opts: AthenaDdlOptions): string => opts.table ?? `flowql_${opts.source ?? 'flows'}`;

const quoteName = (name: string) =>
  name
    .split('.')
    .map((p) => `\`${p}\``)
    .join('.');

function projection(column: string, values: readonly string[] | undefined): [string, string][] {
  if (values === undefined) return [[`projection.${column}.type`, 'injected']];
  return [
    [`projection.${column}.type`, 'enum'],
    [`projection.${column}.values`, [...new Set(values)].sort().join(',')],
  ];
}

/** The DDL text; throws with every problem listed when the options are invalid. */
export function buildAthenaDdl(opts: AthenaDdlOptions): string {
  const problems = validateAthenaDdlOptions(opts);
  if (problems.length > 0) throw new Error(`cannot generate the Athena DDL:\n  ${problems.join('\n  ')}`);
  const root = opts.location.replace(/\/+$/, '');
  const source = opts.source ?? 'flows';
  const stored = source === 'flows' ? STORED_COLUMNS : HOURLY_STORED_COLUMNS;
  const columns = stored.map((c) => `  \`${c.column}\` ${athenaType(c.type)}`);
  // `date` is a string partition key: the value in the path is yyyy-MM-dd, which sorts and compares correctly as text,
  // and a string key is the form AWS documents for date-typed projection.
  const partitions = PARTITION_COLUMNS.map((p) => `  \`${p.column}\` string`);
  const template = `${root}/${partitionDir(source, '${account_id}', '${region}', '${date}')}/`;
  const props: [string, string][] = [
    ['projection.enabled', 'true'],
    ...projection('account_id', opts.accounts),
    ...projection('region', opts.regions),
    ['projection.date.type', 'date'],
    ['projection.date.format', 'yyyy-MM-dd'],
    ['projection.date.range', `${opts.from ?? DEFAULT_PROJECTION_FROM},NOW`],
    ['projection.date.interval', '1'],
    ['projection.date.interval.unit', 'DAYS'],
    ['storage.location.template', template],
    ['classification', 'parquet'],
  ];
  return [
    `CREATE EXTERNAL TABLE IF NOT EXISTS ${quoteName(tableName(opts))} (`,
    columns.join(',\n'),
    ')',
    'PARTITIONED BY (',
    partitions.join(',\n'),
    ')',
    'STORED AS PARQUET',
    `LOCATION '${root}/${source}/'`,
    'TBLPROPERTIES (',
    props.map(([k, v]) => `  '${k}' = '${v}'`).join(',\n'),
    ');',
    '',
  ].join('\n');
}
