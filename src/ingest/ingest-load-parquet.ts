/**
 * Loads one Parquet flow-log object (AWS's `.log.parquet`, flow-logs.md §5.4) into the batch table. Columns are
 * matched by name (AWS's `start`/`end`, or flowql's own `start_time`/`end_time` timestamps); `-`, `None` and ''
 * strings are null. An SQL check lets through the rows whose every value fits its field as the line parser checks it;
 * the rows it doubts (a negative port, text in a number, a fraction) go through the parser's own Parquet row check
 * (parquetRowItem, as `flowql parse` reads them): kept if it accepts them, else rejects naming the row, the field and
 * the reason. So a value the parser refuses never reaches storage by this path either, not even as a null. Row numbers
 * (from 1) play the role of line numbers.
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { fieldByName, integerMax, type FieldSpec } from '../domain/fields.ts';
import { build, raw, sql } from '../store/sql.ts';
import { filledColumns, projection, rawType, type RawLayout, type SourceContext } from './ingest-projection.ts';
import type { BatchTables } from './ingest-batch-tables.ts';
import { NotFlowLogError } from './format-sniff.ts';
import { parquetRowItem } from './parquet-input.ts';
import { MAX_REJECT_TEXT, type LoadResult, type RejectRow } from './text-load-result.ts';

const SAFE_NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;

const INTEGER_TYPES = /^U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)$/;

/**
 * True when the column's value certainly passes the parser's check (checkFieldNumber, parseFieldText). It may only be
 * stricter than the parser, never looser: a false row is decided by parquetRowItem.
 */
function fitsSql(name: string, type: string, spec: FieldSpec | undefined): string {
  const col = `"${name}"`;
  if (spec === undefined) return 'TRUE';
  const max = integerMax(spec);
  // A timestamp (flowql's own files) converts to whole seconds when it is one the parser takes (parquet-input.ts):
  // microsecond precision, from 1970 to 2038 (epoch seconds a flow log can hold, never read as milliseconds).
  if (type === 'TIMESTAMP' || type === 'TIMESTAMP WITH TIME ZONE') {
    const inRange = `${col} >= TIMESTAMP '1970-01-01' AND ${col} < TIMESTAMP '2038-01-19 03:14:08'`;
    return spec.kind === 'epoch' ? `(${col} IS NULL OR (${inRange}))` : `${col} IS NULL`;
  }
  if (type.startsWith('TIMESTAMP')) return `${col} IS NULL`;
  if (max === undefined) return type === 'VARCHAR' || INTEGER_TYPES.test(type) ? 'TRUE' : `${col} IS NULL`;
  if (INTEGER_TYPES.test(type)) return `(${col} IS NULL OR ${col} BETWEEN 0 AND ${max})`;
  if (type === 'VARCHAR') {
    const digits = `length(${col}) BETWEEN 1 AND 15 AND NOT ${col} GLOB '*[!0-9]*' AND TRY_CAST(${col} AS UBIGINT) <= ${max}`;
    return `(${col} IS NULL OR ${col} IN ('-', 'None', '') OR (${digits}))`;
  }
  return `${col} IS NULL`;
}

function convert(name: string, type: string, spec: FieldSpec | undefined): string {
  const col = `"${name}"`;
  const target = rawType(spec);
  // Floored to the second, as the parser does (epoch() would round).
  if (type.startsWith('TIMESTAMP')) return `CAST(epoch_us(${col}) // 1000000 AS UBIGINT)`;
  if (type === 'VARCHAR')
    return `TRY_CAST(CASE WHEN ${col} IN ('-', 'None', '') THEN NULL ELSE ${col} END AS ${target})`;
  return `TRY_CAST(${col} AS ${target})`;
}

/** Loads a local Parquet object; fails (naming the file) when no column is a known flow-log field. */
export async function loadParquetObject(
  c: DuckDBConnection,
  path: string,
  ctx: SourceContext,
  batches: BatchTables,
): Promise<LoadResult> {
  const d = build('ingest.describe_parquet', sql`DESCRIBE SELECT * FROM read_parquet(${path})`);
  const described = (await c.runAndReadAll(d.text, d.params as DuckDBValue[])).getRowObjectsJS();
  const names: string[] = [];
  const specs: (FieldSpec | undefined)[] = [];
  const exprs: string[] = [];
  const fits: string[] = [];
  const seen = new Set<string>();
  for (const row of described) {
    const name = String(row.column_name);
    if (!SAFE_NAME.test(name)) continue;
    const spec = fieldByName(name);
    if (spec && seen.has(spec.column)) continue;
    if (spec) seen.add(spec.column);
    if (!spec && ['flow_id', 'source_id', 'source_line', 'source_account_id', 'extra', 'date'].includes(name)) continue;
    exprs.push(`${convert(name, String(row.column_type), spec)} AS c${names.length}`);
    fits.push(fitsSql(name, String(row.column_type), spec));
    names.push(spec?.name ?? name);
    specs.push(spec);
  }
  if (!specs.some((s) => s !== undefined)) {
    throw new NotFlowLogError('a Parquet file with no column that is a known flow-log field');
  }
  const layout: RawLayout = { names, specs };
  const table = await batches.tableFor(c, filledColumns(layout));
  const accepted = fits.join(' AND ') || 'TRUE';
  const insert = (where: string) =>
    build(
      'ingest.load_parquet',
      sql`INSERT INTO ${raw(table.name)} BY NAME SELECT ${projection(layout, ctx, 'line', true, new Set(table.columns))}
          FROM (SELECT ${raw(exprs.join(', '))}, file_row_number + 1 AS line FROM read_parquet(${path}, file_row_number = true)
                WHERE ${raw(where)})`,
    );
  const q = insert(accepted);
  const inserted = await c.run(q.text, q.params as DuckDBValue[]);
  let records = Number(inserted.rowsChanged);
  // The rows the check doubts, as `flowql parse` reads them: every column, typed as DuckDB returns it.
  const doubted = build(
    'ingest.parquet_doubted',
    sql`SELECT * FROM read_parquet(${path}, file_row_number = true) WHERE NOT (${raw(accepted)}) ORDER BY file_row_number`,
  );
  const reader = await c.runAndReadAll(doubted.text, doubted.params as DuckDBValue[]);
  const rejects: RejectRow[] = [];
  const kept: number[] = [];
  const columns = reader.columnNames();
  const rowColumn = columns.indexOf('file_row_number');
  const dataColumns = columns.filter((_, i) => i !== rowColumn);
  const specsOf = dataColumns.map((name) => fieldByName(name));
  for (const row of reader.getRows()) {
    const line = Number(row[rowColumn]) + 1;
    const item = parquetRowItem(
      dataColumns,
      specsOf,
      row.filter((_, i) => i !== rowColumn),
      line,
    );
    if (item.kind === 'record') kept.push(line);
    else
      rejects.push({ line, field: item.field ?? null, reason: item.reason, text: item.text.slice(0, MAX_REJECT_TEXT) });
  }
  if (kept.length > 0) {
    // Values the parser accepts convert the same way in SQL: those rows are inserted as the others were.
    const again = insert(`file_row_number + 1 IN (${kept.join(', ')})`);
    records += Number((await c.run(again.text, again.params as DuckDBValue[])).rowsChanged);
  }
  return { records, rejects, columns: table.columns };
}
