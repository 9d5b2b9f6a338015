// flowql compact: 3 objects committed one per batch -> 3 files in one partition (plus 1 file in another);
// compaction leaves 1 file per partition in the flows file order with the same rows, and a changed object is still replaced after it.
import { mkdir, mkdtemp, readFile, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { runCompact } from '../../src/ingest/ingest-compact.ts';
import { createLocalWarehouseStorage } from '../../src/ingest/local-warehouse-storage.ts';
import { runIngest } from '../../src/ingest/ingest-run.ts';
import type { Manifest } from '../../src/store/layout.ts';

const HEADER =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
const line = (bytes: number, start: number) =>
  `2 111122223333 eni-1 10.0.0.1 10.0.0.2 443 50000 6 1 ${bytes} ${start} ${start + 60} ACCEPT OK`;
const DAY1 = 1704153600; // 2024-01-02T00:00:00Z

async function rowsOf(data: string) {
  const m = JSON.parse(await readFile(join(data, '_flowql/manifest.json'), 'utf8')) as Manifest;
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const out = [];
  for (const f of m.files) {
    const r = await c.runAndReadAll(
      `SELECT list(bytes::INTEGER ORDER BY file_row_number) AS b, count(DISTINCT flow_id)::INTEGER AS ids FROM read_parquet('${join(data, f.path)}', file_row_number = true)`,
    );
    out.push({ date: f.date, ...(r.getRowObjectsJson()[0] as { b: number[]; ids: number }) });
  }
  c.closeSync();
  db.closeSync();
  return { manifest: m, files: out.sort((a, b) => a.date.localeCompare(b.date) || a.b[0]! - b.b[0]!) };
}

describe('flowql compact', () => {
  it('merges each partition into one sorted file with the same rows', async () => {
    const root = await mkdtemp(join(tmpdir(), 'flowql-compact-'));
    const src = join(root, 'src');
    await mkdir(src);
    await writeFile(join(src, 'a.log.gz'), gzipSync(`${HEADER}\n${line(30, DAY1 + 300)}\n${line(10, DAY1 + 100)}\n`));
    await writeFile(join(src, 'b.log.gz'), gzipSync(`${HEADER}\n${line(20, DAY1 + 200)}\n`));
    await writeFile(join(src, 'c.log.gz'), gzipSync(`${HEADER}\n${line(5, DAY1 + 50)}\n${line(99, DAY1 + 86400)}\n`));
    const data = join(root, 'data');
    const storage = await createLocalWarehouseStorage(data);
    await runIngest({ sources: [src], storage, batchRecords: 1, threads: 1, derive: false });
    const before = await rowsOf(data);
    expect(before.files.map((f) => f.b)).toEqual([[5], [20], [30, 10], [99]]);

    const s = await runCompact({ storage, threads: 1 });
    expect([s.partitionsCompacted, s.filesBefore, s.filesAfter, s.rows]).toEqual([1, 4, 2, 4]);
    const after = await rowsOf(data);
    expect(after.files.map((f) => [f.date, f.b, f.ids])).toEqual([
      // File order: hour of start_time, then source object (a, b, c) and line (parquet-writer.ts FILE_ORDER).
      ['2024-01-02', [30, 10, 20, 5], 4],
      ['2024-01-03', [99], 1],
    ]);
    expect(after.manifest.generation).toBeGreaterThan(before.manifest.generation);
    expect(after.manifest.ingest).toMatchObject({ objects: 3, records: 5 });

    // Replacing c after compaction rewrites the merged file without c's old rows.
    await writeFile(join(src, 'c.log.gz'), gzipSync(`${HEADER}\n${line(6, DAY1 + 60)}\n`));
    await utimes(join(src, 'c.log.gz'), new Date(), new Date(Date.now() + 5000));
    const again = await runIngest({ sources: [src], storage, threads: 1, derive: false });
    expect(again.objects).toMatchObject({ loaded: 1, replaced: 1, skipped: 2 });
    const replaced = await rowsOf(data);
    expect(replaced.files.map((f) => [f.date, f.b])).toEqual([
      ['2024-01-02', [6]],
      ['2024-01-02', [30, 10, 20]],
    ]);
    expect((await runCompact({ storage, threads: 1 })).filesAfter).toBe(1);
    expect((await rowsOf(data)).files.map((f) => f.b)).toEqual([[30, 10, 20, 6]]);
  });
});
