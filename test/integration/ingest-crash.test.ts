// Kill -9 at every stage of the commit protocol, then re-run: readers (the manifest's files) never see a partial
// file or a duplicate, and the next run finishes with exact counts. Data: 4 objects x 3 records, one commit per object,
// then the same 4 objects read by one statement (a group) into one commit.
import { mkdir, mkdtemp, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/store/layout.ts';
import { runIngestProcess, type IngestProcessResult } from '../helpers/ingest-process.ts';

const HEADER =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
const OBJECTS = 4;
const PER_OBJECT = 3;

async function makeSource(root: string): Promise<string> {
  const dir = join(root, 'src/AWSLogs/111122223333/vpcflowlogs/us-east-1/2024/01/02');
  await mkdir(dir, { recursive: true });
  for (let o = 0; o < OBJECTS; o++) {
    const lines = Array.from(
      { length: PER_OBJECT },
      (_x, i) =>
        `2 111122223333 eni-${o} 10.0.0.${i} 10.0.1.1 443 5000${i} 6 1 ${o * 10 + i} ${1704153600 + o * 3600} ${1704153660 + o * 3600} ACCEPT OK`,
    );
    await writeFile(join(dir, `obj-${o}.log.gz`), gzipSync(`${HEADER}\n${lines.join('\n')}\n`));
  }
  return join(root, 'src');
}

/** `batchRecords` 1: a commit per object; larger: the 4 objects are read by one statement and committed together. */
function run(args: string[], pauseAt?: string, batchRecords = 1): Promise<IngestProcessResult> {
  return runIngestProcess([...args, '--batch-records', String(batchRecords), '--threads', '1'], pauseAt);
}

/** Rows a reader sees, and their distinct flow ids; every manifest file must exist and be a whole Parquet file. */
async function visible(data: string): Promise<{ rows: number; ids: number; files: number }> {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(join(data, '_flowql/manifest.json'), 'utf8')) as Manifest;
  } catch {
    return { rows: 0, ids: 0, files: 0 };
  }
  // Only flows files: the manifest also lists derived tables (handshakes/, edges/) when ingest derives them.
  const flows = manifest.files.filter((f) => f.path.startsWith('flows/'));
  if (flows.length === 0) return { rows: 0, ids: 0, files: 0 };
  for (const f of manifest.files) expect((await stat(join(data, f.path))).size).toBe(f.bytes);
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const list = flows.map((f) => `'${join(data, f.path)}'`).join(', ');
  const [r] = (
    await c.runAndReadAll(
      `SELECT count(*)::INTEGER AS n, count(DISTINCT flow_id)::INTEGER AS ids FROM read_parquet([${list}])`,
    )
  ).getRowObjectsJson() as { n: number; ids: number }[];
  c.closeSync();
  db.closeSync();
  return { rows: r!.n, ids: r!.ids, files: flows.length };
}

describe('flowql ingest survives kill -9', () => {
  for (const stage of ['staged', 'recorded', 'published', 'manifest']) {
    it(`killed after "${stage}": no partial or duplicate rows visible; the re-run ends with exactly ${OBJECTS * PER_OBJECT} records`, async () => {
      const root = await mkdtemp(join(tmpdir(), 'flowql-crash-'));
      const src = await makeSource(root);
      const data = join(root, 'data');
      const killed = await run([src, '--data', data], stage);
      expect(killed.killed).toBe(true);
      const during = await visible(data);
      // The first commit holds one object: before the manifest is replaced a reader sees nothing, after it 3 rows.
      expect(during.rows).toBe(stage === 'manifest' ? PER_OBJECT : 0);
      expect(during.ids).toBe(during.rows);

      const rerun = await run([src, '--data', data, '--json']);
      expect(rerun.code).toBe(0);
      expect(await visible(data)).toEqual({ rows: OBJECTS * PER_OBJECT, ids: OBJECTS * PER_OBJECT, files: OBJECTS });
      expect(await readdir(join(data, '_flowql/staging')).then((n) => n.filter((x) => x !== 'duckdb-spill'))).toEqual(
        [],
      );

      const third = await run([src, '--data', data]);
      expect(third.code).toBe(0);
      expect((await visible(data)).rows).toBe(OBJECTS * PER_OBJECT);
    });
  }
});

describe('flowql ingest survives kill -9 with objects read by one statement', () => {
  for (const stage of ['staged', 'recorded', 'published', 'manifest']) {
    it(`killed after "${stage}" of a commit of one group of ${OBJECTS} objects: nothing or all of it visible; the re-run ends with exactly ${OBJECTS * PER_OBJECT} records`, async () => {
      const root = await mkdtemp(join(tmpdir(), 'flowql-crash-group-'));
      const src = await makeSource(root);
      const data = join(root, 'data');
      const killed = await run([src, '--data', data], stage, 1000);
      expect(killed.killed).toBe(true);
      expect(killed.stderr).toContain(`loaded ${OBJECTS} objects of one layout with one statement`);
      const during = await visible(data);
      expect(during.rows).toBe(stage === 'manifest' ? OBJECTS * PER_OBJECT : 0);
      expect(during.ids).toBe(during.rows);

      const rerun = await run([src, '--data', data, '--json'], undefined, 1000);
      expect(rerun.code).toBe(0);
      // One partition (every object's records are of 2024-01-02): one file, whichever run wrote it.
      expect(await visible(data)).toEqual({ rows: OBJECTS * PER_OBJECT, ids: OBJECTS * PER_OBJECT, files: 1 });
      expect(await readdir(join(data, '_flowql/staging')).then((n) => n.filter((x) => x !== 'duckdb-spill'))).toEqual(
        [],
      );
      expect((await run([src, '--data', data], undefined, 1000)).code).toBe(0);
      expect((await visible(data)).rows).toBe(OBJECTS * PER_OBJECT);
    });
  }
});
