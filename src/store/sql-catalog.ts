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

/** Statements creating the catalog overrides (idempotent). */
export const CATALOG_OVERRIDES: readonly string[] = [
  "CREATE OR REPLACE MACRO main.pg_get_userbyid(id) AS 'flowql'",
  // flowql's views have no defaults, constraints or indexes: psql's describe asks for their text with a third argument.
  'CREATE OR REPLACE MACRO main.pg_get_expr(expr, relation) AS NULL, (expr, relation, pretty) AS NULL',
  `CREATE OR REPLACE VIEW main.pg_class AS SELECT * REPLACE (
     CASE WHEN relkind = 'v' AND relnamespace = (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'flowql')
     THEN 'r' ELSE relkind END AS relkind), false AS relforcerowsecurity
   FROM pg_catalog.pg_class`,
  // Relations DuckDB lacks that psql's describe reads: flowql has no roles' policies, extended statistics,
  // publications or inheritance, so they are empty.
  'CREATE OR REPLACE MACRO main.pg_get_statisticsobjdef_columns(oid) AS NULL',
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
  'pg_class',
  'pg_roles',
  'pg_policy',
  'pg_statistic_ext',
  'pg_publication',
  'pg_publication_rel',
  'pg_inherits',
];

/** `text` with PostgreSQL-only catalog syntax turned into what DuckDB parses (unchanged when it has none). */
export function rewriteCatalogSql(text: string): string {
  if (!/pg_catalog\./i.test(text)) return text;
  return text
    .replace(/OPERATOR\(pg_catalog\.([~!*<>=]+)\)/gi, '$1')
    .replace(/\s+COLLATE\s+pg_catalog\."?default"?/gi, '')
    .replace(/::(?:pg_catalog\.)?(?:regtype|regclass|regproc|regnamespace|name)\b/gi, '::VARCHAR')
    .replace(/\bpg_catalog\./gi, '');
}
