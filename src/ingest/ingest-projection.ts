/**
 * The SQL that turns one object's raw columns into rows of the batch table (stored columns + partition columns).
 * Text objects are read by DuckDB's CSV reader into positional columns c0..cN typed so that DuckDB's own casts reject
 * what the TS parser rejects (ports > 65535, negative counters, ...); Parquet objects and the few lines the TS parser
 * rescues are shaped into the same positional columns, so every path shares this projection and its partition rules
 * (src/domain/flow-schema.ts).
 */
import type { FieldSpec } from '../domain/fields.ts';
import { STORED_COLUMNS } from '../domain/flow-schema.ts';
import { join, raw, sql, type SqlFragment, type SqlValue } from '../store/sql.ts';

/** Same ranges as the line parser: these int32 fields are bytes or ports on the wire. */
const NARROW_INT: Readonly<Record<string, string>> = {
  srcport: 'USMALLINT',
  dstport: 'USMALLINT',
  protocol: 'UTINYINT',
  'tcp-flags': 'UTINYINT',
  version: 'UTINYINT',
  'traffic-path': 'UTINYINT',
  'encryption-status': 'UTINYINT',
};

/** Type a raw positional column is read as (unsigned: negative values are rejects, as in the parser). */
export function rawType(spec: FieldSpec | undefined): string {
  if (!spec || spec.kind === 'string') return 'VARCHAR';
  if (spec.kind === 'int32') return NARROW_INT[spec.name] ?? 'INTEGER';
  return 'UBIGINT';
}

/** One object's columns, in file order: the field spec, or undefined for an unknown field (kept in `extra`). */
export interface RawLayout {
  readonly names: readonly string[];
  readonly specs: readonly (FieldSpec | undefined)[];
}

/** Where the rows of one object come from, bound as parameters into the projection. */
export interface SourceContext {
  readonly sourceId: number;
  readonly keyAccountId: string | null;
  readonly keyRegion: string | null;
  /** YYYY-MM-DD from the key: the date partition of records with neither start nor end. */
  readonly keyDate: string | null;
}

/** `{'c0': 'UTINYINT', ...}` for read_csv's `columns`; types come from rawType only. */
export function csvColumnsSql(layout: RawLayout): string {
  return `{${layout.specs.map((s, i) => `'c${i}': '${rawType(s)}'`).join(', ')}}`;
}

const MAX_EPOCH_SECONDS = 253402300799; // 9999-12-31T23:59:59Z; beyond it a value cannot be a TIMESTAMP.

function epochExpr(col: string, msAware: boolean): string {
  const secs = msAware ? `(CASE WHEN ${col} > 2147483647 THEN ${col} // 1000 ELSE ${col} END)` : col;
  return `(CASE WHEN ${secs} <= ${MAX_EPOCH_SECONDS} THEN make_timestamp(CAST(${secs} AS BIGINT) * 1000000) END)`;
}

/**
 * SELECT list producing the batch table's columns from positional columns `c<i>` and a line-number expression
 * (`only`: just these stored columns, for a batch table holding the filled columns; partition columns always).
 * `msAware`: epoch values above 2^31-1 are milliseconds (raw text and Parquet); false for values the parser converted.
 */
export function projection(layout: RawLayout, ctx: SourceContext, lineExpr: string, msAware: boolean, only?: ReadonlySet<string>): SqlFragment {
  const colOf = new Map<string, string>();
  const unknown: [string, string][] = [];
  layout.specs.forEach((s, i) => {
    if (s) colOf.set(s.column, `c${i}`);
    else unknown.push([layout.names[i]!, `c${i}`]);
  });
  const fieldExpr = (column: string, type: string): string => {
    const c = colOf.get(column);
    if (c === undefined) return `CAST(NULL AS ${type})`;
    if (column === 'start_time' || column === 'end_time') return epochExpr(c, msAware);
    return type === 'BIGINT' ? `TRY_CAST(${c} AS BIGINT)` : `CAST(${c} AS ${type})`;
  };
  const parts: SqlFragment[] = [];
  for (const { column, type } of STORED_COLUMNS) {
    if (only && !only.has(column)) continue;
    let expr: SqlFragment;
    if (column === 'flow_id') expr = raw('CAST(NULL AS BIGINT)');
    else if (column === 'source_id') expr = sql`CAST(${ctx.sourceId} AS INTEGER)`;
    else if (column === 'source_line') expr = raw(`CAST(${lineExpr} AS INTEGER)`);
    else if (column === 'source_account_id') expr = sql`CAST(${ctx.keyAccountId} AS VARCHAR)`;
    else if (column === 'extra') expr = raw(extraExpr(unknown));
    else expr = raw(fieldExpr(column, type));
    parts.push(sql`${expr} AS ${raw(column)}`);
  }
  const acct = colOf.get('account_id');
  const region = colOf.get('region');
  const start = fieldExpr('start_time', 'TIMESTAMP');
  const end = fieldExpr('end_time', 'TIMESTAMP');
  const keyAcct: SqlValue = ctx.keyAccountId;
  parts.push(
    acct
      ? sql`CASE WHEN regexp_full_match(${raw(acct)}, '[0-9]{12}') THEN ${raw(acct)} ELSE coalesce(CAST(${keyAcct} AS VARCHAR), 'unknown') END AS account_id`
      : sql`coalesce(CAST(${keyAcct} AS VARCHAR), 'unknown') AS account_id`,
  );
  // A region becomes a folder name: only region-shaped values are trusted, anything else falls back to the key's.
  parts.push(
    region
      ? sql`CASE WHEN regexp_full_match(${raw(region)}, '[a-z]{2}(-[a-z]+)+-[0-9]+') THEN ${raw(region)} ELSE coalesce(CAST(${ctx.keyRegion} AS VARCHAR), 'unknown') END AS region`
      : sql`coalesce(CAST(${ctx.keyRegion} AS VARCHAR), 'unknown') AS region`,
  );
  parts.push(
    sql`coalesce(CAST(${raw(start)} AS DATE), CAST(${raw(end)} AS DATE), CAST(${ctx.keyDate} AS DATE), DATE '1970-01-01') AS date`,
  );
  return join(parts, ',\n  ');
}

/**
 * Stored columns the projection of `layout` can fill (fields present, provenance, `extra` when a field is unknown);
 * every other stored column is NULL in all its rows, which the writer adds after sorting instead of carrying it.
 */
export function filledColumns(layout: RawLayout): string[] {
  const present = new Set<string>(['source_id', 'source_line', 'source_account_id']);
  for (const s of layout.specs) present.add(s ? s.column : 'extra');
  return STORED_COLUMNS.map((c) => c.column).filter((c) => present.has(c));
}

/** MAP of unknown fields by AWS name, nulls left out; NULL when none has a value (as the parser's missing `extra`). */
function extraExpr(unknown: readonly [string, string][]): string {
  if (unknown.length === 0) return 'CAST(NULL AS MAP(VARCHAR, VARCHAR))';
  const entries = unknown
    .map(([name, c]) => `{'k': '${name.replace(/[^a-z0-9_-]/gi, '')}', 'v': CAST(${c} AS VARCHAR)}`)
    .join(', ');
  const list = `list_filter([${entries}], e -> e.v IS NOT NULL)`;
  return `(CASE WHEN len(${list}) = 0 THEN NULL ELSE map_from_entries(${list}) END)`;
}
