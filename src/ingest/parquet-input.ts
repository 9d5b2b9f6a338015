/**
 * Reads AWS's Parquet flow-log objects (flow-logs.md §5.4) with DuckDB: columns are AWS names with `_` (`start`,
 * `end` as INT64 seconds), INT32/INT64/STRING. Values pass the same checks as text fields; `-` and 'None' strings
 * are null (peers' Parquet holds both). Row numbers start at 1 and play the role of line numbers.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { fieldByName, type FieldSpec } from '../domain/fields.ts';
import { build, sql } from '../store/sql.ts';
import { checkFieldNumber, FlowFormatError, parseFieldText, type FlowRecord } from './line-parser.ts';
import type { FlowItem } from './line-parser.ts';

/** A typed cell as the DuckDB client returns it (TIMESTAMP columns, e.g. flowql's own files, carry micros). */
type Cell = unknown;

/** Converts one cell; returns an error reason naming the column, or the value. */
function convert(
  spec: FieldSpec,
  cell: Cell,
): { ok: true; value: string | number | null } | { ok: false; reason: string } {
  if (cell === null || cell === undefined) return { ok: true, value: null };
  if (typeof cell === 'string') {
    const r = parseFieldText(spec, cell);
    return r.ok ? r : { ok: false, reason: r.reason };
  }
  if (typeof cell === 'number' || typeof cell === 'bigint') {
    if (spec.kind === 'string') return { ok: true, value: String(cell) };
    return checkFieldNumber(spec, cell);
  }
  if (typeof cell === 'object' && 'micros' in cell && typeof cell.micros === 'bigint' && spec.kind === 'epoch') {
    // Whole seconds, floored; a flow log's epoch seconds run from 1970 to 2^31 - 1 (later values in text are read as
    // milliseconds, so a timestamp past 2038 could not be told from one).
    const seconds = cell.micros >= 0n ? cell.micros / 1_000_000n : (cell.micros - 999_999n) / 1_000_000n;
    if (seconds < 0n || seconds > 2_147_483_647n) {
      return { ok: false, reason: `${spec.name}: a timestamp from 1970 to 2038-01-19, found ${String(cell)}` };
    }
    return { ok: true, value: Number(seconds) };
  }
  if (typeof cell === 'object' && spec.kind === 'epoch') {
    return { ok: false, reason: `${spec.name}: epoch seconds or a microsecond TIMESTAMP, found ${String(cell)}` };
  }
  return parseFieldText(spec, String(cell));
}

/** Reads a local Parquet file in batches of DuckDB chunks (2048 rows). `name` is used in error messages. */
export async function* readParquetBatches(path: string, name: string): AsyncGenerator<FlowItem[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const query = build('ingest.read_parquet', sql`SELECT * FROM read_parquet(${path})`);
    let result;
    try {
      result = await connection.stream(query.text, [...query.params] as string[]);
    } catch (err) {
      throw new FlowFormatError(`${name}: not a readable Parquet file: ${(err as Error).message.split('\n')[0]}`);
    }
    const columns = result.columnNames();
    const specs = columns.map((c) => fieldByName(c));
    if (!specs.some((s) => s !== undefined)) {
      throw new FlowFormatError(
        `${name}: Parquet file without any flow-log column (found ${columns.slice(0, 8).join(', ')})`,
      );
    }
    let row = 0;
    for (;;) {
      const chunk = await result.fetchChunk();
      if (chunk === null || chunk.rowCount === 0) break;
      const items: FlowItem[] = [];
      for (const values of chunk.getRows()) {
        row++;
        items.push(parquetRowItem(columns, specs, values, row));
      }
      yield items;
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/**
 * One Parquet row as the line parser's outcome: a record, or a reject naming the first column whose value does not
 * fit its field. Ingest runs the rows its SQL check doubts through it too (ingest-load-parquet.ts), so both agree.
 */
export function parquetRowItem(
  columns: readonly string[],
  specs: readonly (FieldSpec | undefined)[],
  values: readonly Cell[],
  row: number,
): FlowItem {
  const record: FlowRecord = {};
  for (let i = 0; i < columns.length; i++) {
    const spec = specs[i];
    const cell = values[i];
    if (spec === undefined) {
      if (cell !== null && cell !== undefined && cell !== '-' && cell !== 'None')
        (record.extra ??= {})[columns[i]!] = String(cell);
      continue;
    }
    const r = convert(spec, cell);
    if (!r.ok) {
      const text = values.map((v) => (v === null ? '-' : String(v))).join(' ');
      return { kind: 'reject', line: row, reason: r.reason, field: spec.name, text };
    }
    record[spec.column] = r.value;
  }
  return { kind: 'record', line: row, record };
}
