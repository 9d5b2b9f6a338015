// ipv6HexSql in DuckDB against the domain's own parser (src/domain/cidr.ts): compressed, upper-case, full and
// IPv4-tailed (::ffff:10.0.0.5) text give the 32 hex digits a CIDR block is compared with.
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { ipv6Hex, parseAddressBlock } from '../../../../src/domain/cidr.ts';
import { ipv6HexSql } from '../../../../src/store/queries/address-hex-sql.ts';
import { runBound } from '../../../../src/store/query-runner.ts';
import { build, sql } from '../../../../src/store/sql.ts';

const ADDRESSES = [
  '2001:db8::1',
  '2600:1F18:ABCD:0001:0000:0000:0000:0010',
  '::',
  '::1',
  'fe80::',
  '::ffff:10.0.0.5',
  '::ffff:a00:5',
  '::ffff:255.255.255.255',
  '64:ff9b::192.0.2.33',
];

describe('ipv6HexSql', () => {
  it('expands every textual form as the domain parser does, an IPv4 tail included', async () => {
    const db = await DuckDBInstance.create(':memory:');
    try {
      const c = await db.connect();
      const q = build(
        'test.hex',
        sql`SELECT a, ${ipv6HexSql('a')} AS hex FROM (SELECT unnest(${ADDRESSES}::VARCHAR[]) AS a)`,
      );
      const r = await runBound(c, q);
      const got = Object.fromEntries((await r.getRowObjectsJS()).map((row) => [row.a, row.hex]));
      expect(got).toEqual(Object.fromEntries(ADDRESSES.map((a) => [a, ipv6Hex(parseAddressBlock(a)!.first)])));
      expect(got['::ffff:10.0.0.5']).toBe('00000000000000000000ffff0a000005');
    } finally {
      db.closeSync();
    }
  });
});
