// flowql compact never grows a partition (issue 10.4): when the merged file would not be smaller than the files it
// replaces, the old files stay, nothing is committed and the staged merge is deleted.
// Fixture: 2 objects of 20,000 v2 records each (one day, see object()), ingested one per commit -> 2 flows files. Each
// committed file is then re-encoded in place in the producer's order at zstd level 22 and its new size recorded in
// the ledger, as an older flowql or another writer might have left it: a merge in flowql's order at level 3 is larger
// than the two together, so compaction keeps them. A third object in another day still
// compacts normally, so the rule is per partition.
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, expect, it } from 'vitest';
import { runCompact } from '../../src/ingest/ingest-compact.ts';
import { createLocalWarehouseStorage } from '../../src/ingest/local-warehouse-storage.ts';
import { runIngest } from '../../src/ingest/ingest-run.ts';
import type { Manifest } from '../../src/store/layout.ts';

const HEADER =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
const DAY1 = 1704153600; // 2024-01-02T00:00:00Z
const DAY2 = DAY1 + 86_400;
const RECORDS = 20_000;

/**
 * One object of `n` records of day `t0`, from a small linear congruential generator seeded with `seed`: runs of 8
 * identical exchanges (same ENI, addresses, ports, counters) whose start hours are scattered over the day. In the
 * producer's order the runs compress to almost nothing; grouped by hour (flowql's file order) they are broken up.
 */
function object(seed: number, t0: number, n: number): Buffer {
  let x = seed;
  const next = (m: number) => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x % m;
  };
  const lines = [HEADER];
  for (let i = 0; i < n; i += 8) {
    const exchange = `eni-${next(1000)} 10.0.${next(250)}.${next(250)} 10.1.${next(250)}.${next(250)} ${1024 + next(60000)} ${next(60000)} 6 ${1 + next(4000)} ${40 + next(9_000_000)}`;
    const second = next(3600);
    for (let j = 0; j < 8 && i + j < n; j++) {
      const start = t0 + next(24) * 3600 + second;
      lines.push(`2 111122223333 ${exchange} ${start} ${start + 30} ACCEPT OK`);
    }
  }
  return gzipSync(`${lines.join('\n')}\n`);
}

const roots: string[] = [];
afterAll(async () => {
  for (const r of roots) await rm(r, { recursive: true, force: true });
});

const manifestOf = async (data: string) =>
  JSON.parse(await readFile(join(data, '_flowql/manifest.json'), 'utf8')) as Manifest;

it('keeps the files of a partition whose merge would not be smaller, and compacts the others', async () => {
  const root = await mkdtemp(join(tmpdir(), 'flowql-compact-grow-'));
  roots.push(root);
  const src = join(root, 'src');
  await mkdir(src);
  await writeFile(join(src, 'a.log.gz'), object(1, DAY1, RECORDS));
  await writeFile(join(src, 'b.log.gz'), object(2, DAY1, RECORDS));
  await writeFile(join(src, 'c.log.gz'), object(3, DAY2, 100));
  await writeFile(join(src, 'd.log.gz'), object(4, DAY2, 100));
  const data = join(root, 'data');
  const storage = await createLocalWarehouseStorage(data);
  await runIngest({ sources: [src], storage, batchRecords: 1, threads: 1, derive: false });

  // Re-encode day 1's files at zstd level 22, same rows and order, and record their sizes in the ledger.
  const before = await manifestOf(data);
  const day1 = before.files.filter((f) => f.table === 'flows' && f.date === '2024-01-02');
  expect(day1).toHaveLength(2);
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const c = await db.connect();
  await c.run(`ATTACH '${join(data, '_flowql/ledger.duckdb')}' AS ledger`);
  for (const f of day1) {
    const path = join(data, f.path);
    await c.run(`COPY (SELECT * FROM read_parquet('${path}') ORDER BY source_id, source_line)
                 TO '${path}.tmp' (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 22, ROW_GROUP_SIZE 1000000)`);
    await rename(`${path}.tmp`, path);
    await c.run(`UPDATE ledger.files SET bytes = ${(await stat(path)).size} WHERE path = '${f.path}'`);
  }
  c.closeSync();
  db.closeSync();
  const bytesDay1 = await Promise.all(day1.map(async (f) => (await stat(join(data, f.path))).size));

  const logs: string[] = [];
  const s = await runCompact({ storage, threads: 1, onLog: (l) => logs.push(l) });
  expect([s.partitionsCompacted, s.partitionsKept, s.filesBefore, s.filesAfter]).toEqual([1, 1, 4, 3]);
  expect(s.bytesAfter).toBeLessThan(s.bytesBefore);
  expect(logs.filter((l) => l.startsWith('kept 111122223333/unknown/2024-01-02: 2 files'))).toHaveLength(1);
  const after = await manifestOf(data);
  const flows = after.files.filter((f) => f.table === 'flows');
  // Day 1: the same two files, untouched; day 2: one merged file with both objects' rows.
  expect(
    flows
      .filter((f) => f.date === '2024-01-02')
      .map((f) => f.path)
      .sort(),
  ).toEqual(day1.map((f) => f.path).sort());
  expect(await Promise.all(day1.map(async (f) => (await stat(join(data, f.path))).size))).toEqual(bytesDay1);
  expect(flows.filter((f) => f.date === '2024-01-03').map((f) => f.rows)).toEqual([200]);
  // The thrown-away merge left nothing in staging.
  expect((await readdir(storage.stagingDir)).filter((n) => n.endsWith('.parquet'))).toEqual([]);
});
