// Objects of one layout read by one statement, through the real `flowql ingest`: rejects name their own object and
// line, an unreadable object in the listing fails alone and is retried (exit 3), a replaced object inside a group
// replaces exactly its rows, and memory stays bounded over hundreds of objects (RSS of the process, sampled).
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/store/layout.ts';

const BIN = join(import.meta.dirname, '../../bin/flowql.js');
const DIR = 'AWSLogs/111122223333/vpcflowlogs/eu-west-1/2023/11/14';
const HEADER =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
const rec = (eni: string, bytes: number | string, start = 1699920000) =>
  `2 111122223333 ${eni} 10.1.0.1 10.1.0.2 443 50000 6 1 ${bytes} ${start} ${start + 60} ACCEPT OK`;
const flowLog = (lines: readonly string[]) => gzipSync(`${HEADER}\n${lines.join('\n')}\n`);

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Highest VmRSS seen while sampling, bytes (only when asked). */
  readonly peakRss: number;
}

/** `flowql ingest <args> --json --no-derive`; samples the process's RSS every 25 ms when `sampleRss`. */
function ingest(args: readonly string[], sampleRss = false): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'ingest', ...args, '--json', '--no-derive'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let peakRss = 0;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = sampleRss
      ? setInterval(() => {
          readFile(`/proc/${child.pid}/status`, 'utf8')
            .then((s) => {
              const kb = Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? 0);
              peakRss = Math.max(peakRss, kb * 1024);
            })
            .catch(() => {});
        }, 25)
      : undefined;
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(timer);
      resolve({ code, stdout, stderr, peakRss });
    });
  });
}

async function query(path: string, sql: string, readOnly = true): Promise<Record<string, unknown>[]> {
  const db = await DuckDBInstance.create(path, readOnly ? { access_mode: 'READ_ONLY' } : {});
  const c = await db.connect();
  const rows = (await c.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
  c.closeSync();
  db.closeSync();
  return rows;
}

const ledger = (data: string, sql: string) => query(join(data, '_flowql/ledger.duckdb'), sql);

/** The flows rows a reader sees (the manifest's files). */
async function visible(data: string, select: string, tail = ''): Promise<Record<string, unknown>[]> {
  const manifest = JSON.parse(await readFile(join(data, '_flowql/manifest.json'), 'utf8')) as Manifest;
  const files = manifest.files.filter((f) => f.path.startsWith('flows/')).map((f) => `'${join(data, f.path)}'`);
  if (files.length === 0) return [];
  return query(':memory:', `SELECT ${select} FROM read_parquet([${files.join(', ')}]) ${tail}`, false);
}

async function folder(prefix: string) {
  const root = await mkdtemp(join(tmpdir(), prefix));
  const src = join(root, 'src', DIR);
  await mkdir(src, { recursive: true });
  return { root, src, data: join(root, 'data') };
}

describe('flowql ingest reads objects of one layout with one statement', () => {
  it('a bad line in the middle object names that object and line; every good line of the three objects loads', async () => {
    const { root, src, data } = await folder('flowql-grouped-rejects-');
    await writeFile(join(src, 'a.log.gz'), flowLog([rec('eni-a', 1), rec('eni-a', 2), rec('eni-a', 3)]));
    await writeFile(
      join(src, 'b.log.gz'),
      flowLog([rec('eni-b', 1), rec('eni-b', 2), rec('eni-b', '1.5'), rec('eni-b', 4)]),
    );
    await writeFile(join(src, 'c.log.gz'), flowLog([rec('eni-c', 1), rec('eni-c', 2)]));
    const r = await ingest([join(root, 'src'), '--data', data, '--max-reject-ratio', '0.5']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('loaded 3 objects of one layout with one statement');
    expect(JSON.parse(r.stdout)).toMatchObject({ records: 8, rejects: 1, objects: { loaded: 3, failed: 0 } });
    expect(
      await ledger(
        data,
        'SELECT s.uri, r.line::INTEGER AS line, r.field, r.reason, r.text FROM rejects r JOIN sources s USING (source_id)',
      ),
    ).toEqual([
      {
        uri: join(src, 'b.log.gz'),
        line: 4,
        field: 'bytes',
        reason: "bytes: expected a non-negative integer, found '1.5'",
        text: rec('eni-b', '1.5'),
      },
    ]);
    const rows = await visible(
      data,
      'interface_id AS eni, bytes::INTEGER AS b, source_line AS line',
      'ORDER BY eni, line',
    );
    expect(rows.map((x) => [x.eni, x.b, x.line])).toEqual([
      ['eni-a', 1, 2],
      ['eni-a', 2, 3],
      ['eni-a', 3, 4],
      ['eni-b', 1, 2],
      ['eni-b', 2, 3],
      ['eni-b', 4, 5],
      ['eni-c', 1, 2],
      ['eni-c', 2, 3],
    ]);
    // Each object's rows carry its own source id (the ledger's), so a replaced object can be removed alone.
    expect(
      await ledger(
        data,
        "SELECT regexp_extract(s.uri, '[a-z]\\.log\\.gz$') AS o, fs.rows::INTEGER AS n FROM file_sources fs JOIN sources s USING (source_id) ORDER BY o",
      ),
    ).toEqual([
      { o: 'a.log.gz', n: 3 },
      { o: 'b.log.gz', n: 3 },
      { o: 'c.log.gz', n: 2 },
    ]);
  });

  it("an object holding a second format's header loads the lines after it under that header's names, as parse reads them", async () => {
    const { root, src, data } = await folder('flowql-grouped-second-header-');
    // The same fields, the two ends swapped: every line fits either header, so only the header says which is which.
    const swapped =
      'version account-id interface-id dstaddr srcaddr dstport srcport protocol packets bytes start end action log-status';
    const concatenated = `${HEADER}\n${rec('eni-b', 1)}\n${swapped}\n2 111122223333 eni-b 10.9.9.9 10.8.8.8 80 40000 6 1 2 1699920000 1699920060 ACCEPT OK\n`;
    await writeFile(join(src, 'a.log.gz'), flowLog([rec('eni-a', 1)]));
    await writeFile(join(src, 'b.log.gz'), gzipSync(concatenated));
    await writeFile(join(src, 'c.log.gz'), flowLog([rec('eni-c', 1)]));
    const r = await ingest([join(root, 'src'), '--data', data]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ records: 4, rejects: 0, objects: { loaded: 3, failed: 0 } });
    const rows = await visible(
      data,
      'interface_id AS eni, srcaddr, dstaddr, srcport, dstport, source_line AS line',
      'ORDER BY eni, line',
    );
    expect(rows.map((x) => [x.eni, x.srcaddr, x.dstaddr, x.srcport, x.dstport, x.line])).toEqual([
      ['eni-a', '10.1.0.1', '10.1.0.2', 443, 50000, 2],
      ['eni-b', '10.1.0.1', '10.1.0.2', 443, 50000, 2],
      ['eni-b', '10.8.8.8', '10.9.9.9', 40000, 80, 4],
      ['eni-c', '10.1.0.1', '10.1.0.2', 443, 50000, 2],
    ]);
  });

  it('an unreadable object among objects of one layout (truncated gzip): the others load, it fails (exit 3) and is retried until it reads', async () => {
    const { root, src, data } = await folder('flowql-grouped-truncated-');
    const many = (eni: string) => Array.from({ length: 200 }, (_, i) => rec(eni, i));
    await writeFile(join(src, 'a.log.gz'), flowLog(many('eni-a')));
    const whole = flowLog(many('eni-b'));
    await writeFile(join(src, 'b.log.gz'), whole.subarray(0, Math.floor(whole.length / 2)));
    await writeFile(join(src, 'c.log.gz'), flowLog(many('eni-c')));
    for (const run of [1, 2]) {
      const r = await ingest([join(root, 'src'), '--data', data]);
      expect(r.code, r.stderr).toBe(3);
      const s = JSON.parse(r.stdout) as { objects: Record<string, number>; failures: { uri: string; error: string }[] };
      expect(s.objects).toMatchObject({ loaded: run === 1 ? 2 : 0, skipped: run === 1 ? 0 : 2, failed: 1 });
      expect(s.failures.map((f) => f.uri)).toEqual([join(src, 'b.log.gz')]);
      expect(s.failures[0]!.error).toMatch(/unexpected end of file|truncated/i);
    }
    expect(await visible(data, 'interface_id AS eni, count(*)::INTEGER AS n', 'GROUP BY 1 ORDER BY 1')).toEqual([
      { eni: 'eni-a', n: 200 },
      { eni: 'eni-c', n: 200 },
    ]);
    // The object is delivered whole (a new version): the next run loads it, once.
    await writeFile(join(src, 'b.log.gz'), whole);
    await utimes(join(src, 'b.log.gz'), new Date(), new Date(Date.now() + 5000));
    const fixed = await ingest([join(root, 'src'), '--data', data]);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(
      await visible(
        data,
        'interface_id AS eni, count(*)::INTEGER AS n, count(DISTINCT source_line)::INTEGER AS lines',
        'GROUP BY 1 ORDER BY 1',
      ),
    ).toEqual([
      { eni: 'eni-a', n: 200, lines: 200 },
      { eni: 'eni-b', n: 200, lines: 200 },
      { eni: 'eni-c', n: 200, lines: 200 },
    ]);
    expect(await ledger(data, 'SELECT state, count(*)::INTEGER AS n FROM sources GROUP BY 1 ORDER BY 1')).toEqual([
      { state: 'loaded', n: 3 },
    ]);
  });

  it('a replaced object read in a group with a new one replaces exactly its own rows', async () => {
    const { root, src, data } = await folder('flowql-grouped-replaced-');
    await writeFile(join(src, 'a.log.gz'), flowLog([rec('eni-a', 1), rec('eni-a', 2)]));
    await writeFile(join(src, 'b.log.gz'), flowLog([rec('eni-b', 1), rec('eni-b', 2), rec('eni-b', 3)]));
    await writeFile(join(src, 'c.log.gz'), flowLog([rec('eni-c', 1)]));
    expect((await ingest([join(root, 'src'), '--data', data])).code).toBe(0);
    // b changes (one record fewer, other values) and d arrives: both are read by one statement.
    await writeFile(join(src, 'b.log.gz'), flowLog([rec('eni-b', 10), rec('eni-b', 20)]));
    await utimes(join(src, 'b.log.gz'), new Date(), new Date(Date.now() + 5000));
    await writeFile(join(src, 'd.log.gz'), flowLog([rec('eni-d', 1), rec('eni-d', 2)]));
    const r = await ingest([join(root, 'src'), '--data', data]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('loaded 2 objects of one layout with one statement');
    expect(JSON.parse(r.stdout)).toMatchObject({
      records: 4,
      objects: { listed: 4, loaded: 2, skipped: 2, replaced: 1 },
    });
    const rows = await visible(
      data,
      'interface_id AS eni, bytes::INTEGER AS b, source_line AS line',
      'ORDER BY eni, line',
    );
    expect(rows.map((x) => [x.eni, x.b, x.line])).toEqual([
      ['eni-a', 1, 2],
      ['eni-a', 2, 3],
      ['eni-b', 10, 2],
      ['eni-b', 20, 3],
      ['eni-c', 1, 2],
      ['eni-d', 1, 2],
      ['eni-d', 2, 3],
    ]);
    expect(await visible(data, 'count(*)::INTEGER AS n, count(DISTINCT flow_id)::INTEGER AS ids')).toEqual([
      { n: 7, ids: 7 },
    ]);
    expect(await ledger(data, 'SELECT state, count(*)::INTEGER AS n FROM sources GROUP BY 1 ORDER BY 1')).toEqual([
      { state: 'loaded', n: 4 },
      { state: 'superseded', n: 1 },
    ]);
  });

  it('memory stays bounded over 300 objects (RSS sampled), loaded in groups and committed in batches', async () => {
    const { root, src, data } = await folder('flowql-grouped-many-');
    const OBJECTS = 300;
    const PER_OBJECT = 40;
    for (let o = 0; o < OBJECTS; o++) {
      const lines = Array.from({ length: PER_OBJECT }, (_, i) => rec(`eni-${o}`, i, 1699920000 + o * 60));
      await writeFile(join(src, `o-${String(o).padStart(3, '0')}.log.gz`), flowLog(lines));
    }
    const r = await ingest([join(root, 'src'), '--data', data, '--batch-records', '3000'], true);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ records: OBJECTS * PER_OBJECT, objects: { loaded: OBJECTS } });
    // Groups hold at most a batch of lines: 3,000 lines are 73 objects of 41.
    const groups = [...r.stderr.matchAll(/loaded (\d+) objects of one layout with one statement/g)].map((m) =>
      Number(m[1]),
    );
    expect(Math.max(...groups)).toBeLessThanOrEqual(Math.ceil(3000 / (PER_OBJECT + 1)));
    expect(groups.reduce((a, n) => a + n, 0)).toBeGreaterThan(OBJECTS / 2);
    // Measured ~170 MiB (Node, tsx, DuckDB and a batch of 3,000 records); objects waiting for a group or a loader are
    // bounded, so 300 of them must not add to that.
    expect(r.peakRss).toBeGreaterThan(50 * 2 ** 20);
    expect(r.peakRss).toBeLessThan(320 * 2 ** 20);
    expect(await visible(data, 'count(*)::INTEGER AS n, count(DISTINCT flow_id)::INTEGER AS ids')).toEqual([
      { n: OBJECTS * PER_OBJECT, ids: OBJECTS * PER_OBJECT },
    ]);
  });
});
