/** psql's catalog syntax rewritten into what DuckDB parses; other text untouched. */
import { expect, it } from 'vitest';
import { rewriteCatalogSql } from '../../../src/store/sql-catalog.ts';

it("rewrites psql's describe query: OPERATOR(pg_catalog.~), COLLATE pg_catalog.default, qualified names, reg casts", () => {
  const psql = `SELECT c.oid, n.nspname, c.relname, c.reloftype::pg_catalog.regtype::pg_catalog.text
FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relname OPERATOR(pg_catalog.~) '^(flows)$' COLLATE pg_catalog.default AND pg_catalog.pg_table_is_visible(c.oid)`;
  expect(rewriteCatalogSql(psql)).toBe(`SELECT c.oid, n.nspname, c.relname, c.reloftype::VARCHAR::text
FROM pg_class c LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relname ~ '^(flows)$' AND pg_table_is_visible(c.oid)`);
});

it('leaves a statement without pg_catalog. alone, string literals included', () => {
  const text = "SELECT 'OPERATOR(x) COLLATE y' AS s, bytes::BIGINT FROM flows WHERE nspname <> 'pg_catalog'";
  expect(rewriteCatalogSql(text)).toBe(text);
});
