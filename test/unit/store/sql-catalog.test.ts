/** psql's catalog syntax rewritten into what DuckDB parses; other text untouched. */
import { expect, it } from 'vitest';
import { rewriteCatalogSql } from '../../../src/store/sql-catalog.ts';

it("rewrites psql's describe query: OPERATOR(pg_catalog.~), COLLATE pg_catalog.default, qualified names, reg casts", () => {
  const psql = `SELECT c.oid, n.nspname, c.relname, c.reloftype::pg_catalog.regtype::pg_catalog.text
FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relname OPERATOR(pg_catalog.~) '^(flows)$' COLLATE pg_catalog.default AND pg_catalog.pg_table_is_visible(c.oid)`;
  expect(rewriteCatalogSql(psql)).toBe(`SELECT c.oid, n.nspname, c.relname, c.reloftype::VARCHAR::text
FROM pg_class c LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE regexp_matches(c.relname, '^(flows)$') AND pg_table_is_visible(c.oid)`);
});

it('leaves a statement without pg_catalog. alone, string literals included', () => {
  const text = "SELECT 'OPERATOR(x) COLLATE y' AS s, bytes::BIGINT FROM flows WHERE nspname <> 'pg_catalog'";
  expect(rewriteCatalogSql(text)).toBe(text);
});

it("answers SHOW of a PostgreSQL setting as a SELECT of flowql's value, named as PostgreSQL names the column", () => {
  expect(rewriteCatalogSql('show transaction isolation level')).toBe(
    "SELECT 'read committed' AS transaction_isolation",
  );
  expect(rewriteCatalogSql('SHOW standard_conforming_strings;')).toBe("SELECT 'on' AS standard_conforming_strings");
  expect(rewriteCatalogSql('SHOW server_version_num')).toBe("SELECT '140000' AS server_version_num");
  // Anything else stays for the guard, which refuses SHOW of DuckDB's settings or tables.
  expect(rewriteCatalogSql('SHOW memory_limit')).toBe('SHOW memory_limit');
  expect(rewriteCatalogSql('SHOW TABLES')).toBe('SHOW TABLES');
});

it("points current_setting at flowql's settings, and turns = ANY(list) into list_contains", () => {
  expect(rewriteCatalogSql("SELECT pg_catalog.current_setting('server_version_num')")).toBe(
    "SELECT pg_current_setting('server_version_num')",
  );
  expect(rewriteCatalogSql("SELECT current_setting ('TimeZone'), pg_current_setting('x')")).toBe(
    "SELECT pg_current_setting('TimeZone'), pg_current_setting('x')",
  );
  expect(
    rewriteCatalogSql(
      'SELECT 1 FROM pg_index ix LEFT JOIN pg_attribute a ON t.oid = a.attrelid AND a.attnum = ANY(ix.indkey)',
    ),
  ).toBe(
    'SELECT 1 FROM pg_index ix LEFT JOIN pg_attribute a ON t.oid = a.attrelid AND list_contains(ix.indkey, a.attnum)',
  );
  expect(rewriteCatalogSql("SELECT json_build_object('a', 1)")).toBe("SELECT json_object('a', 1)");
  // PostgreSQL's regular expression operators find a match anywhere; DuckDB's ~ must match the whole text.
  expect(rewriteCatalogSql("SELECT 1 WHERE t.schemaname !~ '^pg_' AND name ~* 'Flo''ws' AND a ~~ 'x%'")).toBe(
    "SELECT 1 WHERE NOT regexp_matches(t.schemaname, '^pg_') AND regexp_matches(name, 'Flo''ws', 'i') AND a ~~ 'x%'",
  );
});

it("reads information_schema's tables and columns through the views that leave out main's overrides", () => {
  expect(rewriteCatalogSql("SELECT table_name FROM information_schema.tables WHERE table_schema = 'flowql'")).toBe(
    "SELECT table_name FROM information_schema_tables WHERE table_schema = 'flowql'",
  );
  expect(rewriteCatalogSql('SELECT * FROM INFORMATION_SCHEMA."columns"')).toBe(
    'SELECT * FROM information_schema_columns',
  );
  expect(rewriteCatalogSql('SELECT * FROM information_schema.schemata')).toBe(
    'SELECT * FROM information_schema.schemata',
  );
});
