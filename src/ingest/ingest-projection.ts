/**
 * The SQL that turns one object's raw columns into rows of the batch table (stored columns + partition columns).
 * Text objects are read by DuckDB's CSV reader as text columns c0..cN, checked by textRowAcceptedSql against the line
 * parser's rules (both from the field table) and cast only when accepted; Parquet objects and the lines the TS
 * parser takes are shaped into the same positional columns, so every path shares this projection and its partition
 * rules (src/domain/flow-schema.ts).
 */
import { INTEGER_TOKEN_MAX_DIGITS, integerMax, type FieldSpec } from '../domain/fields.ts';
import { STORED_COLUMNS } from '../domain/flow-schema.ts';
import { join, raw, sql, type SqlFragment } from '../store/sql.ts';
import { TOKEN_SEPARATORS } from './line-parser.ts';

/** Type a raw positional column is cast to: the narrowest unsigned type holding the field's range (integerMax). */
export function rawType(spec: FieldSpec | undefined): string {
  const max = spec && integerMax(spec);
  if (max === undefined) return 'VARCHAR';
  if (max <= 255) return 'UTINYINT';
  if (max <= 65535) return 'USMALLINT';
  if (spec!.kind === 'int32') return 'INTEGER';
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

/**
 * A source context in SQL: bound values for one object, or the columns `ctx_source_id`, `ctx_key_account_id`,
 * `ctx_key_region`, `ctx_key_date` of a relation joined to the rows (several objects read by one statement).
 */
export type SourceContextSql = {
  readonly [K in keyof SourceContext]: SqlFragment;
};

/** The context columns of a multi-object read (see SourceContextSql). */
export const CONTEXT_COLUMNS: SourceContextSql = {
  sourceId: raw('ctx_source_id'),
  keyAccountId: raw('ctx_key_account_id'),
  keyRegion: raw('ctx_key_region'),
  keyDate: raw('ctx_key_date'),
};

function contextSql(ctx: SourceContext | SourceContextSql): SourceContextSql {
  if (typeof ctx.sourceId !== 'number') return ctx as SourceContextSql;
  const c = ctx as SourceContext;
  return {
    sourceId: sql`${c.sourceId}`,
    keyAccountId: sql`${c.keyAccountId}`,
    keyRegion: sql`${c.keyRegion}`,
    keyDate: sql`${c.keyDate}`,
  };
}

/**
 * read_csv's `columns` for a text object: every field as VARCHAR (DuckDB's own casts take `+5`, `1.5`, `1e3`,
 * `1_000`, `0x1f` and ` 5` as numbers, which the line parser rejects), plus one overflow column c<N> that is non-null
 * exactly when a line has more than N tokens (with the reader's null_padding, strict_mode=false and a null string no
 * token can equal). Reading extra tokens into one column instead of failing keeps a line of 200,000 tokens linear:
 * DuckDB's reject store writes a row per extra column.
 */
export function textColumnsSql(layout: RawLayout): string {
  const cols = layout.specs.map((_s, i) => `'c${i}': 'VARCHAR'`);
  return `{${[...cols, `'c${layout.specs.length}': 'VARCHAR'`].join(', ')}}`;
}

/** A regex character class (RE2 syntax) of the line parser's token separators other than the ASCII space. */
function separatorClass(): string {
  const hex = (c: number) => `\\x{${c.toString(16)}}`;
  const parts = TOKEN_SEPARATORS.filter(([a]) => a !== 0x20).map(([a, b]) =>
    a === b ? hex(a) : `${hex(a)}-${hex(b)}`,
  );
  return `[${parts.join('')}]`;
}

/**
 * SQL true exactly for the text rows the line parser would accept with the same values, false otherwise (never null):
 * N tokens (no overflow, no padding, no empty token from a double space), integer tokens `-` or 1..24 ASCII digits up
 * to the field's integerMax, no token holding another separator the parser splits on (tab, NBSP, ...), not a
 * transit gateway row in a VPC layout, not a repeated header. A false row is not a reject: its line goes through the
 * line parser, which keeps it or names the reason, so this check may only be stricter than the parser, never looser.
 * `separators: false` leaves out the separator test (a regex per text column, a third of the check's cost): only for
 * an object whose bytes were seen to hold none of those characters (see lineShape).
 */
export function textRowAcceptedSql(
  layout: RawLayout & { readonly transitGateway?: boolean },
  opts: { readonly separators: boolean } = { separators: true },
): SqlFragment {
  const n = layout.specs.length;
  const sep = separatorClass();
  const terms: SqlFragment[] = [raw(`c${n} IS NULL`)];
  layout.specs.forEach((spec, i) => {
    const c = `c${i}`;
    const max = spec && integerMax(spec);
    if (max === undefined) {
      const noSeparator = opts.separators ? ` AND NOT regexp_matches(${c}, '${sep}')` : '';
      terms.push(raw(`coalesce(${c} <> ''${noSeparator}, false)`));
    } else {
      // ASCII digits only (GLOB: no character outside 0-9; measured faster than a regex), then the range. strlen
      // counts bytes, which for a token of digits are its characters (any other token fails the GLOB): cheaper than
      // length's count of UTF-8 characters (0.04 of 0.96 CPU s for 400k v5 lines).
      const digits = `strlen(${c}) BETWEEN 1 AND ${INTEGER_TOKEN_MAX_DIGITS} AND NOT ${c} GLOB '*[!0-9]*'`;
      terms.push(raw(`coalesce(${c} = '-' OR (${digits} AND TRY_CAST(${c} AS UBIGINT) <= ${max}), false)`));
    }
  });
  // The parser's own checks on a well-split line (line-parser.ts parseSpan, isHeaderLine): both go to it.
  if (layout.transitGateway === false && n > 1) terms.push(raw(`NOT starts_with(c1, 'TransitGateway')`));
  // An integer first column already refuses a header's field name.
  const first = layout.names[0];
  const firstSpec = layout.specs[0];
  if (first !== undefined && (firstSpec === undefined || integerMax(firstSpec) === undefined)) {
    terms.push(sql`c0 <> ${first}`);
  }
  return join(terms, ' AND ');
}

/** SELECT list casting accepted text columns c0..c<N-1> to their raw types, `-` as null (see textRowAcceptedSql). */
export function typedTextColumnsSql(layout: RawLayout): string {
  return layout.specs
    .map((s, i) => {
      const text = `nullif(c${i}, '-')`;
      return rawType(s) === 'VARCHAR' ? `${text} AS c${i}` : `TRY_CAST(${text} AS ${rawType(s)}) AS c${i}`;
    })
    .join(', ');
}

const MAX_EPOCH_SECONDS = 253402300799; // 9999-12-31T23:59:59Z; beyond it a value cannot be a TIMESTAMP.

function epochExpr(col: string, msAware: boolean): string {
  const secs = msAware ? `(CASE WHEN ${col} > 2147483647 THEN ${col} // 1000 ELSE ${col} END)` : col;
  return `(CASE WHEN ${secs} <= ${MAX_EPOCH_SECONDS} THEN make_timestamp(CAST(${secs} AS BIGINT) * 1000000) END)`;
}

/**
 * SELECT list producing the batch table's columns from positional columns `c<i>`, a line-number expression and the
 * source context (`only`: just these stored columns, for a batch table holding the filled columns; partition columns always).
 * `msAware`: epoch values above 2^31-1 are milliseconds (raw text and Parquet); false for values the parser converted.
 */
export function projection(
  layout: RawLayout,
  context: SourceContext | SourceContextSql,
  lineExpr: string,
  msAware: boolean,
  only?: ReadonlySet<string>,
): SqlFragment {
  const ctx = contextSql(context);
  const colOf = new Map<string, string>();
  const specOf = new Map<string, FieldSpec>();
  const unknown: [string, string][] = [];
  layout.specs.forEach((s, i) => {
    if (s) {
      colOf.set(s.column, `c${i}`);
      specOf.set(s.column, s);
    } else unknown.push([layout.names[i]!, `c${i}`]);
  });
  const fieldExpr = (column: string, type: string): string => {
    const c = colOf.get(column);
    if (c === undefined) return `CAST(NULL AS ${type})`;
    if (column === 'start_time' || column === 'end_time') return epochExpr(c, msAware);
    // A guard only: text lines and Parquet rows were checked against each field's range before they got here
    // (textRowAcceptedSql, ingest-load-parquet.ts); a counter past it would overflow the hourly sums (INT128 -> INT64).
    const max = specOf.get(column) && integerMax(specOf.get(column)!);
    if (type === 'BIGINT') return `(CASE WHEN ${c} <= ${max ?? Number.MAX_SAFE_INTEGER} THEN CAST(${c} AS BIGINT) END)`;
    return `CAST(${c} AS ${type})`;
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
  const keyAcct = ctx.keyAccountId;
  // A value equal to the key's comes out the same whether the pattern holds or not (the fallback is the key's): the
  // first WHEN spares the usual row a regular expression (a CASE tests its next WHEN only on the rows left over;
  // measured 3x cheaper than the expression alone).
  parts.push(
    acct
      ? sql`CASE WHEN ${raw(acct)} = CAST(${keyAcct} AS VARCHAR) THEN ${raw(acct)} WHEN regexp_full_match(${raw(acct)}, '[0-9]{12}') THEN ${raw(acct)}
             ELSE coalesce(CAST(${keyAcct} AS VARCHAR), 'unknown') END AS account_id`
      : sql`coalesce(CAST(${keyAcct} AS VARCHAR), 'unknown') AS account_id`,
  );
  // A region becomes a folder name: only region-shaped values are trusted, anything else falls back to the key's.
  parts.push(
    region
      ? sql`CASE WHEN ${raw(region)} = CAST(${ctx.keyRegion} AS VARCHAR) THEN ${raw(region)}
             WHEN regexp_full_match(${raw(region)}, '[a-z]{2}(-[a-z]+)+-[0-9]+') THEN ${raw(region)}
             ELSE coalesce(CAST(${ctx.keyRegion} AS VARCHAR), 'unknown') END AS region`
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
