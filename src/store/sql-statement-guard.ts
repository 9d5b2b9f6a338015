/**
 * Which SQL a client of the PostgreSQL endpoint (src/pgwire/) may run: exactly one SELECT (or WITH ... SELECT, set
 * operations, VALUES) that reads only flowql's views, the CTEs it defines itself and the pg_catalog /
 * information_schema relations BI tools browse. The statement is parsed by DuckDB itself (`json_serialize_sql`, which
 * serializes only SELECT statements) and its syntax tree is walked here, so a table function (`read_parquet`,
 * `read_csv`, `query`), a file path (`FROM 'x.parquet'`), another database (`ATTACH`ed or not), `COPY`, `PRAGMA`,
 * `SET` or any DDL/DML never reaches the instance. Refusals carry a PostgreSQL SQLSTATE.
 */
import { REFERENCE_KINDS, type ReferenceKind } from '../domain/reference-tables.ts';
import { TABLES, type TableName } from './layout.ts';
import type { Connection } from './query-runner.ts';

/**
 * The views a client sees in schema `flowql` (src/store/sql-views.ts creates them): every table of the warehouse, the
 * org tables included (a key sees their rows only when it may read every account, as in GraphQL), and the reference
 * tables (AWS's ip ranges, your own networks, and the inventory, of the key's accounts only).
 */
export type SqlViewName = TableName | ReferenceKind;
export const SQL_VIEWS: readonly SqlViewName[] = [...TABLES, ...REFERENCE_KINDS];

/** The schema of flowql's views. */
export const SQL_SCHEMA = 'flowql';

/** The catalog schemas clients may read (DuckDB's emulation plus flowql's own pg_class, see sql-catalog.ts). */
const CATALOG_SCHEMAS = new Set(['pg_catalog', 'information_schema']);

/**
 * Scalar functions a client may not call: getvariable shows the session's file lists, pg_sleep holds a slot of the
 * statement queue without work that an interrupt stops.
 */
const REFUSED_FUNCTIONS = new Set(['getvariable', 'pg_sleep']);

/** A statement the endpoint does not run; `code` is its SQLSTATE. */
export class SqlRefusedError extends Error {
  override readonly name = 'SqlRefusedError';
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

/** SQLSTATEs of the refusals. */
export const SQLSTATE = {
  syntaxError: '42601',
  insufficientPrivilege: '42501',
  featureNotSupported: '0A000',
  undefinedTable: '42P01',
} as const;

const TABLE_REF_TYPES = new Set(['BASE_TABLE', 'JOIN', 'SUBQUERY', 'EMPTY', 'EXPRESSION_LIST']);

type Json = { readonly [key: string]: unknown };

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Names (lower case) a relation reference may use, besides the CTEs in scope. */
export interface GuardRelations {
  /** Views that exist now (a table without files yet has none). */
  readonly views: ReadonlySet<string>;
  /** Relations of pg_catalog, reachable without a schema as in PostgreSQL. */
  readonly catalog: ReadonlySet<string>;
}

/**
 * Checks the syntax tree of one statement (json_serialize_sql's `statements[0].node`); throws SqlRefusedError.
 * `scope` holds the CTE names visible where `node` sits; the flowql views the statement reads are added to `read`.
 */
export function checkQueryTree(
  tree: unknown,
  relations: GuardRelations,
  scope: ReadonlySet<string> = new Set(),
  read: Set<string> = new Set(),
): void {
  if (Array.isArray(tree)) {
    for (const item of tree) checkQueryTree(item, relations, scope, read);
    return;
  }
  if (!isObject(tree)) return;
  let inner = scope;
  const cteMap = isObject(tree.cte_map) && Array.isArray(tree.cte_map.map) ? (tree.cte_map.map as Json[]) : [];
  if (cteMap.length > 0) {
    // A CTE's body sees the CTEs before it (and itself only when recursive); a name reused by its own body would
    // otherwise reach the real relation of that name.
    const seen = new Set(scope);
    for (const entry of cteMap) {
      const name = String(entry.key).toLowerCase();
      const value = entry.value as Json;
      const recursive = isObject(value?.query) && (value.query.node as Json | undefined)?.type === 'RECURSIVE_CTE_NODE';
      checkQueryTree(value, relations, recursive ? new Set([...seen, name]) : new Set(seen), read);
      seen.add(name);
    }
    inner = seen;
  }
  if (typeof tree.type === 'string' && !('class' in tree) && 'alias' in tree && 'sample' in tree) {
    checkTableRef(tree, relations, inner, read);
  }
  if (tree.class === 'FUNCTION' && typeof tree.function_name === 'string') {
    if (REFUSED_FUNCTIONS.has(tree.function_name.toLowerCase()))
      throw new SqlRefusedError(SQLSTATE.insufficientPrivilege, `function ${tree.function_name} is not allowed`);
  }
  for (const [key, value] of Object.entries(tree)) {
    if (key === 'cte_map') continue;
    checkQueryTree(value, relations, inner, read);
  }
}

function checkTableRef(ref: Json, relations: GuardRelations, scope: ReadonlySet<string>, read: Set<string>): void {
  const type = ref.type as string;
  if (type === 'TABLE_FUNCTION') {
    const fn = isObject(ref.function) ? String(ref.function.function_name ?? '') : '';
    throw new SqlRefusedError(
      SQLSTATE.insufficientPrivilege,
      `table function ${fn || '(unnamed)'} is not allowed: read the views of schema ${SQL_SCHEMA} (${SQL_VIEWS.join(', ')})`,
    );
  }
  if (type === 'SHOW_REF')
    throw new SqlRefusedError(
      SQLSTATE.featureNotSupported,
      'DESCRIBE, SHOW and SUMMARIZE are not supported: query information_schema.columns (or use \\d in psql)',
    );
  if (!TABLE_REF_TYPES.has(type))
    throw new SqlRefusedError(SQLSTATE.featureNotSupported, `${type.toLowerCase().replace('_', ' ')} is not supported`);
  if (type !== 'BASE_TABLE') return;
  const catalog = String(ref.catalog_name ?? '').toLowerCase();
  const schema = String(ref.schema_name ?? '').toLowerCase();
  const table = String(ref.table_name ?? '');
  const name = table.toLowerCase();
  const shown = [catalog, schema, table].filter(Boolean).join('.');
  // A name without schema is a CTE in scope first, then a view (the search path's order), then a catalog relation.
  const view =
    catalog === '' && (schema === SQL_SCHEMA || (schema === '' && !scope.has(name))) && relations.views.has(name);
  if (view) {
    read.add(name);
    return;
  }
  const allowed =
    catalog === '' &&
    ((schema === '' && (scope.has(name) || relations.catalog.has(name))) || CATALOG_SCHEMAS.has(schema));
  if (allowed) return;
  if (/[/\\.:]/.test(table))
    throw new SqlRefusedError(SQLSTATE.insufficientPrivilege, `reading files (${table}) is not allowed`);
  throw new SqlRefusedError(
    SQLSTATE.undefinedTable,
    `relation "${shown}" does not exist or is not readable: query the views of schema ${SQL_SCHEMA} (${[...relations.views].join(', ') || 'none yet'})`,
  );
}

/** First keyword of a statement, for the message of a refused non-SELECT. */
function firstKeyword(text: string): string {
  const stripped = text.replace(/^(\s|--[^\n]*\n?|\/\*[\s\S]*?\*\/)+/, '');
  return (/^[A-Za-z]+/.exec(stripped)?.[0] ?? '').toUpperCase();
}

/**
 * Verdicts on statements already checked, per relations object (sql-views.ts keeps one until a view is added) and
 * text: BI tools repeat the same statements (a dashboard's panels, a driver's metadata queries), and the parse costs
 * about 0.5 CPU ms each. The verdict is a function of the text and the relations alone, so a repeat gets the same
 * answer. Oldest out first.
 */
const verdictsOf = new WeakMap<GuardRelations, Map<string, ReadonlySet<SqlViewName> | SqlRefusedError>>();
const VERDICTS_KEPT = 1000;

/**
 * Parses `text` with DuckDB and checks it; returns the flowql views it reads when it may run (so only their files
 * need binding), throws SqlRefusedError otherwise.
 */
export async function guardStatement(
  connection: Connection,
  text: string,
  relations: GuardRelations,
): Promise<ReadonlySet<SqlViewName>> {
  let verdicts = verdictsOf.get(relations);
  if (!verdicts) verdictsOf.set(relations, (verdicts = new Map()));
  let verdict = verdicts.get(text);
  if (!verdict) {
    verdict = await parseAndCheck(connection, text, relations).catch((err: unknown) => {
      if (err instanceof SqlRefusedError) return err;
      throw err;
    });
    if (verdicts.size >= VERDICTS_KEPT) verdicts.delete(verdicts.keys().next().value!);
    verdicts.set(text, verdict);
  }
  if (verdict instanceof SqlRefusedError) throw new SqlRefusedError(verdict.code, verdict.message);
  return verdict;
}

async function parseAndCheck(
  connection: Connection,
  text: string,
  relations: GuardRelations,
): Promise<ReadonlySet<SqlViewName>> {
  const reader = await connection.runAndReadAll('SELECT json_serialize_sql($1::VARCHAR) AS tree', [text]);
  const parsed = JSON.parse(String(reader.getRowsJS()[0]![0])) as {
    error: boolean;
    error_type?: string;
    error_message?: string;
    statements?: { node: unknown }[];
  };
  if (parsed.error) {
    if (parsed.error_type === 'not implemented') {
      const keyword = firstKeyword(text) || 'this statement';
      throw new SqlRefusedError(
        SQLSTATE.insufficientPrivilege,
        `${keyword} is not allowed: this endpoint is read-only and runs one SELECT (or WITH ... SELECT) at a time`,
      );
    }
    throw new SqlRefusedError(SQLSTATE.syntaxError, parsed.error_message ?? 'syntax error');
  }
  const statements = parsed.statements ?? [];
  if (statements.length !== 1)
    throw new SqlRefusedError(
      SQLSTATE.featureNotSupported,
      `expected one statement, found ${statements.length}: send statements one at a time`,
    );
  const read = new Set<string>();
  checkQueryTree(statements[0]!.node, relations, new Set(), read);
  return read as ReadonlySet<SqlViewName>;
}
