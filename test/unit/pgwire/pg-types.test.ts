/** DuckDB values in PostgreSQL's text and binary forms, and the OIDs announced for their types. */
import { BIGINT, BLOB, BOOLEAN, DATE, DECIMAL, HUGEINT, INTEGER, LIST, TIMESTAMP, VARCHAR } from '@duckdb/node-api';
import { DuckDBDateValue, DuckDBTimestampValue, DuckDBBlobValue } from '@duckdb/node-api';
import { expect, it } from 'vitest';
import { announcedOid, binaryParameter, binaryValue, pgTypeOid, textValue } from '../../../src/pgwire/pg-types.ts';

it('announces PostgreSQL OIDs: int8, int4, bool, varchar, timestamp, date, numeric for HUGEINT and DECIMAL', () => {
  expect([BIGINT, INTEGER, BOOLEAN, VARCHAR, TIMESTAMP, DATE, HUGEINT, DECIMAL(18, 3), BLOB].map(pgTypeOid)).toEqual([
    20, 23, 16, 1043, 1114, 1082, 1700, 1700, 17,
  ]);
  expect(pgTypeOid(LIST(INTEGER))).toBe(25); // no PostgreSQL match: text in DuckDB's notation
  expect(announcedOid(1700, 1)).toBe(25); // numeric has no binary form here: announced as text
  expect(announcedOid(1700, 0)).toBe(1700);
});

it("writes PostgreSQL's text forms: t/f, exact 64-bit integers, ISO timestamps, bytea hex", () => {
  expect(textValue(true)!.toString()).toBe('t');
  expect(textValue(9007199254740993n)!.toString()).toBe('9007199254740993');
  expect(textValue(new DuckDBTimestampValue(1714557600_000_000n))!.toString()).toBe('2024-05-01 10:00:00');
  expect(textValue(new DuckDBBlobValue(new Uint8Array([1, 255])))!.toString()).toBe('\\x01ff');
  expect(textValue(null)).toBeNull();
});

it('writes binary forms counted from 2000-01-01 for dates and timestamps, big-endian integers', () => {
  expect(binaryValue(9007199254740993n, 20)!.readBigInt64BE()).toBe(9007199254740993n);
  expect(binaryValue(new DuckDBDateValue(10_958), 1082)!.readInt32BE()).toBe(1); // 2000-01-02
  expect(binaryValue(new DuckDBTimestampValue(946_684_801_000_000n), 1114)!.readBigInt64BE()).toBe(1_000_000n);
  const int8 = Buffer.alloc(8);
  int8.writeBigInt64BE(-5n);
  expect(binaryParameter(int8, 20)).toBe('-5');
});
