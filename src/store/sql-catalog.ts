/**
 * Enough of PostgreSQL's catalog for psql's `\dt` / `\d`, JDBC's DatabaseMetaData and BI tools' schema browsers, on
 * top of DuckDB's own pg_catalog emulation (which already answers most of them). Two gaps are closed here:
 *
 * - syntax DuckDB does not parse, which psql writes into every describe query: `OPERATOR(pg_catalog.~)`,
 *   `COLLATE pg_catalog.default`, and functions qualified with `pg_catalog.` that DuckDB lacks. The text is rewritten
 *   before the statement guard sees it, so what runs is what was checked.
 * - objects DuckDB lacks or answers differently, created once in the instance's `main` schema (which the search path
 *   reads before pg_catalog): `pg_get_userbyid`, and a pg_class that shows flowql's views as tables (relkind `r`), so
 *   `\dt` and "tables" browsers list them.
 */

/** The PostgreSQL version the endpoint reports: psql and JDBC pick their catalog queries by it. */
export const SERVER_VERSION = '14.0';

/**
 * The PostgreSQL settings clients read when they connect (SQLAlchemy, so Superset, asks `SHOW transaction isolation
 * level` and `SHOW standard_conforming_strings`; drivers ask `current_setting('server_version_num')`), with the values
 * that describe this endpoint: read-only, UTF-8, UTC, schema flowql. Read as `SHOW name` or `current_setting('name')`.
 */
export const PG_SETTINGS: Readonly<Record<string, string>> = {
  server_version: SERVER_VERSION,
  server_version_num: '140000',
  server_encoding: 'UTF8',
  client_encoding: 'UTF8',
  standard_conforming_strings: 'on',
  transaction_isolation: 'read committed',
  default_transaction_isolation: 'read committed',
  transaction_read_only: 'on',
  default_transaction_read_only: 'on',
  integer_datetimes: 'on',
  datestyle: 'ISO, MDY',
  intervalstyle: 'postgres',
  timezone: 'UTC',
  search_path: 'flowql',
  max_identifier_length: '63',
  lc_collate: 'C',
  lc_ctype: 'C',
  is_superuser: 'off',
  application_name: '',
};

const settingLiteral = (value: string) => `'${value.replaceAll("'", "''")}'`;

/**
 * DuckDB's pg_attribute gives a column's DuckDB type id as `atttypid`, while its pg_type holds PostgreSQL's OIDs, so
 * JDBC's getColumns (which joins the two) found no column. DuckDB type id -> PostgreSQL OID and name (the OIDs the wire
 * protocol announces, src/pgwire/pg-types.ts); other types are text.
 */
const TYPE_IDS: readonly [readonly number[], number, string][] = [
  [[10], 16, 'boolean'],
  [[11, 12, 28], 21, 'smallint'],
  [[13, 29], 23, 'integer'],
  [[14, 30], 20, 'bigint'],
  [[15], 1082, 'date'],
  [[16], 1083, 'time without time zone'],
  [[17, 18, 19, 20], 1114, 'timestamp without time zone'],
  [[32], 1184, 'timestamp with time zone'],
  [[21, 31, 49, 50], 1700, 'numeric'],
  [[22], 700, 'real'],
  [[23], 701, 'double precision'],
  [[24, 25], 1043, 'character varying'],
  [[26], 17, 'bytea'],
  [[27], 1186, 'interval'],
  [[54], 2950, 'uuid'],
];

const OID_OF_DUCKDB_TYPE = `CASE ${TYPE_IDS.map(([ids, oid]) => `WHEN atttypid IN (${ids.join(', ')}) THEN ${oid}`).join(' ')} ELSE 25 END`;
const NAME_OF_OID = `CASE ${TYPE_IDS.map(([, oid, name]) => `WHEN type_oid = ${oid} THEN '${name}'`).join(' ')} WHEN type_oid = 25 THEN 'text' ELSE NULL END`;

/** Statements creating the catalog overrides (idempotent). */
export const CATALOG_OVERRIDES: readonly string[] = [
  "CREATE OR REPLACE MACRO main.pg_get_userbyid(id) AS 'flowql'",
  // Tools that parse version() expect PostgreSQL's form.
  `CREATE OR REPLACE MACRO main.version() AS 'PostgreSQL ${SERVER_VERSION} (flowql, a read-only SQL endpoint on DuckDB)'`,
  // The database a client connected to is flowql (pg_database shows it so), not DuckDB's `memory`.
  "CREATE OR REPLACE MACRO main.pg_current_database() AS 'flowql'",
  // Named apart from DuckDB's own current_setting, which the API reads on the same instance: rewriteCatalogSql
  // points clients' calls here.
  `CREATE OR REPLACE MACRO main.pg_current_setting(name) AS CASE lower(name) ${Object.entries(PG_SETTINGS)
    .map(([name, value]) => `WHEN '${name}' THEN ${settingLiteral(value)}`)
    .join(' ')} END`,
  // flowql's views have no defaults, constraints or indexes: psql's describe asks for their text with a third argument.
  'CREATE OR REPLACE MACRO main.pg_get_expr(expr, relation) AS NULL, (expr, relation, pretty) AS NULL',
  `CREATE OR REPLACE VIEW main.pg_attribute AS
   SELECT * REPLACE (${OID_OF_DUCKDB_TYPE} AS atttypid, coalesce(attlen, -1) AS attlen) FROM pg_catalog.pg_attribute`,
  `CREATE OR REPLACE MACRO main.format_type(type_oid, typemod) AS ${NAME_OF_OID}`,
  // psqlODBC's SQLColumns reads these as non-null integers, as PostgreSQL's pg_type always has them.
  `CREATE OR REPLACE VIEW main.pg_type AS SELECT * REPLACE (coalesce(typtypmod, -1) AS typtypmod,
     coalesce(typbasetype, 0) AS typbasetype, coalesce(typndims, 0) AS typndims, coalesce(typcollation, 0) AS typcollation)
   FROM pg_catalog.pg_type`,
  `CREATE OR REPLACE VIEW main.pg_class AS SELECT * REPLACE (
     CASE WHEN relkind = 'v' AND relnamespace = (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'flowql')
     THEN 'r' ELSE relkind END AS relkind), false AS relforcerowsecurity
   FROM pg_catalog.pg_class
   -- The overrides themselves live in main: schema browsers list flowql's views, not them.
   WHERE relnamespace NOT IN (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'main')`,
  // information_schema as clients should see it: without the overrides of main (Grafana's table picker lists every
  // table that is not in information_schema or pg_catalog). rewriteCatalogSql points clients' reads here.
  `CREATE OR REPLACE VIEW main.information_schema_tables AS
   SELECT * FROM information_schema.tables WHERE table_schema <> 'main'`,
  `CREATE OR REPLACE VIEW main.information_schema_columns AS
   SELECT * FROM information_schema.columns WHERE table_schema <> 'main'`,
  // Relations DuckDB lacks that psql's describe reads: flowql has no roles' policies, extended statistics,
  // publications or inheritance, so they are empty.
  'CREATE OR REPLACE MACRO main.pg_get_statisticsobjdef_columns(oid) AS NULL',
  // DBeaver's navigator: its table query asks each relation's partition key (views have none), its connection reads
  // pg_settings, and it lists pg_database (the client connected to flowql: DuckDB's own databases are not shown).
  'CREATE OR REPLACE MACRO main.pg_get_partkeydef(oid) AS NULL',
  `CREATE OR REPLACE VIEW main.pg_settings AS SELECT name, setting, NULL::VARCHAR AS unit, 'flowql' AS category,
     'answered by flowql' AS short_desc, 'internal' AS context, 'string' AS vartype, 'default' AS source
   FROM (VALUES ${Object.entries(PG_SETTINGS)
     .map(([name, value]) => `('${name}', ${settingLiteral(value)})`)
     .join(', ')}) AS s(name, setting)`,
  `CREATE OR REPLACE VIEW main.pg_database AS SELECT * REPLACE ('flowql' AS datname)
   FROM pg_catalog.pg_database WHERE datname = current_database()`,
  // Metabase's sync reads each relation's privileges: the endpoint is read-only, so SELECT (of a list of privileges,
  // any of them) is the one a key holds. Its relations query unions pg_tables, pg_views and pg_matviews.
  `CREATE OR REPLACE MACRO main.has_table_privilege(relation, privilege) AS contains(lower(privilege), 'select'),
     (role, relation, privilege) AS contains(lower(privilege), 'select')`,
  `CREATE OR REPLACE MACRO main.has_any_column_privilege(relation, privilege) AS contains(lower(privilege), 'select'),
     (role, relation, privilege) AS contains(lower(privilege), 'select')`,
  "CREATE OR REPLACE VIEW main.pg_views AS SELECT * FROM pg_catalog.pg_views WHERE schemaname <> 'main'",
  `CREATE OR REPLACE VIEW main.pg_matviews AS SELECT NULL::VARCHAR AS schemaname, NULL::VARCHAR AS matviewname,
     NULL::VARCHAR AS matviewowner, NULL::VARCHAR AS definition WHERE false`,
  // Grafana's table list quotes names with it; PostgreSQL quotes what is not a lower-case identifier.
  `CREATE OR REPLACE MACRO main.quote_ident(name) AS CASE WHEN regexp_full_match(name, '[a-z_][a-z0-9_$]*') THEN name
     ELSE '"' || replace(name, '"', '""') || '"' END`,
  // SQLAlchemy's get_columns (Superset's schema browser) asks each column's sequence: views have none.
  'CREATE OR REPLACE MACRO main.pg_get_serial_sequence(relation, column_name) AS NULL',
  'CREATE OR REPLACE MACRO main.pg_relation_is_publishable(relation) AS false',
  `CREATE OR REPLACE VIEW main.pg_roles AS SELECT 0::BIGINT AS oid, 'flowql' AS rolname, false AS rolsuper`,
  `CREATE OR REPLACE VIEW main.pg_policy AS SELECT NULL::VARCHAR AS polname, NULL::BIGINT AS polrelid,
     NULL::BOOLEAN AS polpermissive, NULL::BIGINT[] AS polroles, NULL::VARCHAR AS polqual,
     NULL::VARCHAR AS polwithcheck, NULL::VARCHAR AS polcmd WHERE false`,
  `CREATE OR REPLACE VIEW main.pg_statistic_ext AS SELECT NULL::BIGINT AS oid, NULL::BIGINT AS stxrelid,
     NULL::VARCHAR AS stxname, NULL::BIGINT AS stxnamespace, NULL::VARCHAR[] AS stxkind, NULL::INTEGER[] AS stxkeys,
     NULL::INTEGER AS stxstattarget WHERE false`,
  `CREATE OR REPLACE VIEW main.pg_publication AS SELECT NULL::BIGINT AS oid, NULL::VARCHAR AS pubname,
     NULL::BOOLEAN AS puballtables WHERE false`,
  `CREATE OR REPLACE VIEW main.pg_publication_rel AS SELECT NULL::BIGINT AS prpubid, NULL::BIGINT AS prrelid WHERE false`,
  `CREATE OR REPLACE VIEW main.pg_inherits AS SELECT NULL::BIGINT AS inhrelid, NULL::BIGINT AS inhparent,
     NULL::INTEGER AS inhseqno, NULL::BOOLEAN AS inhdetachpending WHERE false`,
];

/** Relations of `main` a client may name (the overrides above). */
export const CATALOG_OVERRIDE_RELATIONS: readonly string[] = [
  'pg_views',
  'pg_matviews',
  'pg_settings',
  'pg_database',
  'information_schema_tables',
  'information_schema_columns',
  'pg_class',
  'pg_attribute',
  'pg_type',
  'pg_roles',
  'pg_policy',
  'pg_statistic_ext',
  'pg_publication',
  'pg_publication_rel',
  'pg_inherits',
];

/** `SHOW name` of a setting in PG_SETTINGS as the SELECT of its value (PostgreSQL names the column after it). */
function showAsSelect(text: string): string | null {
  const shown = /^\s*show\s+(transaction\s+isolation\s+level|\w+)\s*;?\s*$/i.exec(text)?.[1];
  if (!shown) return null;
  const name = /^transaction\s/i.test(shown) ? 'transaction_isolation' : shown.toLowerCase();
  const value = PG_SETTINGS[name];
  return value === undefined ? null : `SELECT ${settingLiteral(value)} AS ${name}`;
}

/**
 * `text` with PostgreSQL-only syntax turned into what DuckDB parses (unchanged when it has none): `SHOW` of a
 * PostgreSQL setting, current_setting, = ANY(list), information_schema's tables and columns (the overrides' views),
 * and the catalog syntax of psql's describe queries.
 */
export function rewriteCatalogSql(text: string): string {
  const show = showAsSelect(text);
  if (show) return show;
  const rewritten = text
    .replace(/\b(?:pg_catalog\.)?current_setting\s*\(/gi, 'pg_current_setting(')
    .replace(/\b(?:pg_catalog\.)?current_database\s*\(\s*\)/gi, 'pg_current_database()')
    .replace(/\bjson_build_object\s*\(/gi, 'json_object(')
    .replace(
      /\binformation_schema\s*\.\s*"?(tables|columns)\b"?/gi,
      (_, name: string) => `information_schema_${name.toLowerCase()}`,
    )
    // DuckDB runs `x = ANY(list)` as a subquery, which it cannot join outside an inner join (SQLAlchemy's
    // get_indexes joins pg_attribute ON a.attnum = ANY(ix.indkey)); list_contains is the same test.
    .replace(/\b([a-z_][\w.]*)\s*=\s*ANY\s*\(\s*([a-z_][\w.]*)\s*\)/gi, 'list_contains($2, $1)')
    .replace(/OPERATOR\(pg_catalog\.([~!*<>=]+)\)/gi, '$1')
    // PostgreSQL's `~` finds a match anywhere, DuckDB's must match the whole text (Metabase filters schemas with
    // `schemaname !~ '^pg_'`): a column against a literal pattern becomes regexp_matches.
    .replace(
      /\b([a-z_][\w.]*)\s*(!?)~(\*?)\s*('(?:[^']|'')*')/gi,
      (_, column: string, not: string, insensitive: string, pattern: string) =>
        `${not ? 'NOT ' : ''}regexp_matches(${column}, ${pattern}${insensitive ? ", 'i'" : ''})`,
    );
  if (!/pg_catalog\./i.test(rewritten)) return rewritten;
  return rewritten
    .replace(/\s+COLLATE\s+pg_catalog\."?default"?/gi, '')
    .replace(/::(?:pg_catalog\.)?(?:regtype|regclass|regproc|regnamespace|name)\b/gi, '::VARCHAR')
    .replace(/\bpg_catalog\./gi, '');
}
