import { describe, expect, it } from 'vitest';
import { build, ident, join, raw, sql } from '../../../src/store/sql.ts';

describe('sql tag', () => {
  it('binds every value as a positional parameter, through nested fragments', () => {
    const where = join([sql`srcport = ${22}`, sql`action = ${"x' OR 1=1 --"}`], ' AND ');
    const q = build('t.q', sql`SELECT count(*) FROM t WHERE ${where} LIMIT ${10}`);
    expect(q.text).toBe('SELECT count(*) FROM t WHERE srcport = $1 AND action = $2 LIMIT $3');
    expect(q.params).toEqual([22, "x' OR 1=1 --", 10]);
  });

  it('accepts identifiers only from the allow-list', () => {
    const allowed = new Set(['bytes', 'end']);
    expect(build('t', sql`SELECT ${ident('bytes', allowed)}, ${ident('end', allowed)}`).text).toBe(
      'SELECT bytes, "end"',
    );
    expect(() => ident('bytes; DROP TABLE x', allowed)).toThrow(/not allowed/);
  });

  it('renders an empty join as its fallback', () => {
    expect(build('t', sql`WHERE ${join([], ' AND ', 'TRUE')}`).text).toBe('WHERE TRUE');
    expect(build('t', raw('SELECT 1')).params).toEqual([]);
  });
});
