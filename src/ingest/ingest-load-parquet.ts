/**
 * Loads one Parquet flow-log object (AWS's `.log.parquet`, flow-logs.md §5.4) into the batch table. Columns are
 * matched by name (AWS's `start`/`end`, or flowql's own `start_time`/`end_time` timestamps); `-`, `None` and ''
 * strings are null; a value that does not fit its field (a negative port, text in a number) becomes null rather than
 * rejecting the row, since a Parquet row has no text to show. Row numbers (from 1) play the role of line numbers.
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { fieldByName, type FieldSpec } from '../domain/fields.ts';
import { build, raw, sql } from '../store/sql.ts';
import { filledColumns, projection, rawType, type RawLayout, type SourceContext } from './ingest-projection.ts';
import type { BatchTables } from './ingest-batch-tables.ts';
import { NotFlowLogError } from './format-sniff.ts';
import type { LoadResult } from './text-load-result.ts';

const SAFE_NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;

function convert(name: string, type: string, spec: FieldSpec | undefined): string {
  const col = `"${name}"`;
  const target = rawType(spec);
  if (type.startsWith('TIMESTAMP')) return `CAST(epoch(${col}) AS UBIGINT)`;
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
  const seen = new Set<string>();
  for (const row of described) {
    const name = String(row.column_name);
    if (!SAFE_NAME.test(name)) continue;
    const spec = fieldByName(name);
    if (spec && seen.has(spec.column)) continue;
    if (spec) seen.add(spec.column);
    if (!spec && ['flow_id', 'source_id', 'source_line', 'source_account_id', 'extra', 'date'].includes(name)) continue;
    exprs.push(`${convert(name, String(row.column_type), spec)} AS c${names.length}`);
    names.push(spec?.name ?? name);
    specs.push(spec);
  }
  if (!specs.some((s) => s !== undefined)) {
    throw new NotFlowLogError('a Parquet file with no column that is a known flow-log field');
  }
  const layout: RawLayout = { names, specs };
  const table = await batches.tableFor(c, filledColumns(layout));
  const q = build(
    'ingest.load_parquet',
    sql`INSERT INTO ${raw(table.name)} BY NAME SELECT ${projection(layout, ctx, 'line', true, new Set(table.columns))}
        FROM (SELECT ${raw(exprs.join(', '))}, file_row_number + 1 AS line FROM read_parquet(${path}, file_row_number = true))`,
  );
  const inserted = await c.run(q.text, q.params as DuckDBValue[]);
  return { records: Number(inserted.rowsChanged), rejects: [], columns: table.columns };
}
