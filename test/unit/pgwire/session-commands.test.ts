/** Which statements a session answers itself, and which go to the statement guard (and are refused there). */
import { expect, it } from 'vitest';
import { sessionCommandTag } from '../../../src/pgwire/session-commands.ts';

it('answers transaction control, DISCARD, DEALLOCATE and the settings drivers send on connect', () => {
  expect(sessionCommandTag('BEGIN')).toBe('BEGIN');
  expect(sessionCommandTag('start transaction read only;')).toBe('BEGIN');
  expect(sessionCommandTag('COMMIT')).toBe('COMMIT');
  expect(sessionCommandTag('rollback')).toBe('ROLLBACK');
  expect(sessionCommandTag('DISCARD ALL')).toBe('DISCARD ALL');
  expect(sessionCommandTag('DEALLOCATE "_PLAN0x55"')).toBe('DEALLOCATE');
  expect(sessionCommandTag('SET extra_float_digits = 3')).toBe('SET');
  expect(sessionCommandTag("SET application_name TO 'Metabase'")).toBe('SET');
  expect(sessionCommandTag("SET TIME ZONE 'UTC'")).toBe('SET');
  expect(sessionCommandTag('SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY')).toBe('SET');
});

it('leaves every other statement to the guard: SETs of DuckDB settings, variables, queries', () => {
  expect(sessionCommandTag('SET threads = 1')).toBeNull();
  expect(sessionCommandTag('SET enable_external_access = true')).toBeNull();
  expect(sessionCommandTag("SET VARIABLE flowql_files_flows = ['/etc/passwd']")).toBeNull();
  expect(sessionCommandTag('SET GLOBAL search_path = main')).toBeNull();
  expect(sessionCommandTag('SELECT 1')).toBeNull();
  expect(sessionCommandTag('BEGIN; SELECT 1')).toBeNull();
});
