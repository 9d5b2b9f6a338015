import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsParquetWriter, type AwsParquetWriter } from '../../../src/generator/aws-parquet-writer.ts';
import { FORMAT_FIELDS } from '../../../src/generator/flow-log-formats.ts';

const V5 = FORMAT_FIELDS['v5-full'];
const V2 = FORMAT_FIELDS['v2-default'];
const v5Line = (srcport: string, start: number, status = 'OK'): string =>
  `5 012345678901 eni-1 10.0.0.1 10.0.0.2 ${srcport} 443 6 3 180 ${start} ${start + 9} ACCEPT ${status} vpc-1 ` +
  `subnet-1 i-1 2 IPv4 10.0.0.1 10.0.0.2 eu-west-1 euw1-az1 - - - - egress 1\n`;
const lines = (...text: string[]): Uint8Array => Buffer.from(text.join(''), 'latin1');

let dir: string;
let writer: AwsParquetWriter;
let db: DuckDBInstance;
let conn: DuckDBConnection;

/** [srcport, log_status, start] of every row of a file, in file order. */
async function rows(path: string): Promise<unknown[][]> {
  const reader = await conn.runAndReadAll(`SELECT srcport, log_status, start FROM read_parquet($1)`, [path]);
  return reader.getRows().map((r) => r.map((v) => (typeof v === 'bigint' ? Number(v) : v)));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flowql-parquet-writer-'));
  writer = await createAwsParquetWriter();
  db = await DuckDBInstance.create(':memory:');
  conn = await db.connect();
});

afterAll(async () => {
  await writer.close();
  conn.closeSync();
  db.closeSync();
  await rm(dir, { recursive: true, force: true });
});

describe('createAwsParquetWriter', () => {
  it('converts a batch of objects in one go, each file holding exactly its own lines in order', async () => {
    // Three objects of 2, 1 and 3 lines; `-` becomes NULL.
    const a = writer.write(V5, lines(v5Line('40001', 100), v5Line('40002', 101)), join(dir, 'x/a.log.parquet'));
    const b = writer.write(V5, lines(v5Line('-', 200, 'NODATA')), join(dir, 'y/b.log.parquet'));
    const c = writer.write(
      V5,
      lines(v5Line('40003', 300), v5Line('40004', 301), v5Line('40005', 302)),
      join(dir, 'x/c.log.parquet'),
    );
    await Promise.all([a.staged, b.staged, c.staged]);
    await writer.flush();
    const sizes = await Promise.all([a.written, b.written, c.written]);
    expect(await rows(join(dir, 'x/a.log.parquet'))).toEqual([
      [40001, 'OK', 100],
      [40002, 'OK', 101],
    ]);
    expect(await rows(join(dir, 'y/b.log.parquet'))).toEqual([[null, 'NODATA', 200]]);
    expect(await rows(join(dir, 'x/c.log.parquet'))).toEqual([
      [40003, 'OK', 300],
      [40004, 'OK', 301],
      [40005, 'OK', 302],
    ]);
    expect(sizes[0]).toBe((await stat(join(dir, 'x/a.log.parquet'))).size);
    expect((await readdir(join(dir, 'x'))).sort()).toEqual(['a.log.parquet', 'c.log.parquet']);
  });

  it('starts a new batch when the field list changes, so each object keeps its own columns', async () => {
    const v2 = '2 012345678901 eni-1 10.0.0.1 10.0.0.2 40010 443 6 3 180 500 509 ACCEPT OK\n';
    const first = writer.write(V5, lines(v5Line('40009', 400)), join(dir, 'z/v5.log.parquet'));
    const second = writer.write(V2, lines(v2), join(dir, 'z/v2.log.parquet'));
    await writer.flush();
    await Promise.all([first.written, second.written]);
    const columns = async (path: string): Promise<number> =>
      (await conn.runAndReadAll(`SELECT * FROM read_parquet($1)`, [path])).columnCount;
    expect(await columns(join(dir, 'z/v5.log.parquet'))).toBe(29);
    expect(await columns(join(dir, 'z/v2.log.parquet'))).toBe(14);
    expect(await rows(join(dir, 'z/v2.log.parquet'))).toEqual([[40010, 'OK', 500]]);
  });

  it('converts a full batch of 32 without waiting for flush', async () => {
    const writes = Array.from({ length: 32 }, (_v, i) =>
      writer.write(V5, lines(v5Line(String(41000 + i), 600 + i)), join(dir, `full/${i}.log.parquet`)),
    );
    await Promise.all(writes.map((w) => w.written));
    expect(await rows(join(dir, 'full/31.log.parquet'))).toEqual([[41031, 'OK', 631]]);
    expect(await readdir(join(dir, 'full'))).toHaveLength(32);
  });

  it('refuses an output path with unexpected characters, naming it', async () => {
    const bad = writer.write(V5, lines(v5Line('1', 1)), join(dir, "it's.log.parquet"));
    await expect(bad.written).rejects.toThrow(
      `aws-parquet-writer: unexpected characters in output path ${join(dir, "it's.log.parquet")}`,
    );
    await expect(bad.staged).rejects.toThrow('unexpected characters');
  });
});
