// A poison number among good lines, end to end: `flowql ingest` (the real CLI, deriving the hourly tables) keeps the
// good lines, rejects the poison ones by file, line and reason, exits 0, and the day's summaries answer. Before, a
// bytes value of 2^63-1 was cast in by DuckDB's reader and the hourly derivation failed (INT128 -> INT64): exit 1 on
// every run, other files included; `1.5`, `+5`, `1e3`, `1_000`, `0x1f` were stored as 2, 5, 1000, 1000, 31.
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { readFlowFile } from '../../src/ingest/flow-file-reader.ts';
import { formatSummary } from '../../src/ingest/ingest-progress.ts';
import { runIngest } from '../../src/ingest/ingest-run.ts';
import { createLocalWarehouseStorage } from '../../src/ingest/local-warehouse-storage.ts';
import { gqlData, testApi } from '../helpers/graphql.ts';

const BIN = join(import.meta.dirname, '../../bin/flowql.js');
const HEADER =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
const DIR = 'AWSLogs/111122223333/vpcflowlogs/eu-west-1/2024/05/01';
const T0 = Date.UTC(2024, 4, 1, 10) / 1000; // 2024-05-01T10:00:00Z

/** A record of one flow (same interface, addresses and ports: one hourly group), `bytes` and `packets` as given. */
const rec = (bytes: string, packets = '2', srcport = '443', minute = 0) =>
  `2 111122223333 eni-0a1 10.0.0.1 10.0.0.2 ${srcport} 50000 6 ${packets} ${bytes} ${T0 + minute * 60} ${T0 + minute * 60 + 30} ACCEPT OK`;

// Object a: 30 good lines of 1000 bytes, with the poison lines in between (line numbers: the header is line 1).
const POISON: [line: number, text: string, field: string, reason: string][] = [
  [5, rec('9223372036854775807'), 'bytes', "bytes: '9223372036854775807' is out of range (max 9007199254740991)"],
  [9, rec('9223372036854775808'), 'bytes', "bytes: '9223372036854775808' is out of range (max 9007199254740991)"],
  [13, rec('1000', '1.5'), 'packets', "packets: expected a non-negative integer, found '1.5'"],
  [17, rec('1000', '2', '+5'), 'srcport', "srcport: expected an integer 0-65535, found '+5'"],
  [21, rec('1e3'), 'bytes', "bytes: expected a non-negative integer, found '1e3'"],
  [25, rec('1_000'), 'bytes', "bytes: expected a non-negative integer, found '1_000'"],
  [29, rec('0x1f'), 'bytes', "bytes: expected a non-negative integer, found '0x1f'"],
];

function objectA(): string {
  const lines = [HEADER];
  let good = 0;
  while (lines.length < 38) {
    const at = lines.length + 1;
    const poison = POISON.find(([line]) => line === at);
    lines.push(poison ? poison[1] : rec('1000', '2', '443', good++ % 50));
  }
  expect(good).toBe(30);
  return `${lines.join('\n')}\n`;
}

const roots: string[] = [];
afterAll(() => roots.splice(0));

function ingest(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'ingest', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('flowql ingest with poison numbers among good lines', () => {
  it('keeps the good lines, rejects the poison ones by line and reason, exits 0, and the day answers', async () => {
    const root = await mkdtemp(join(tmpdir(), 'flowql-poison-'));
    roots.push(root);
    const src = join(root, 'src');
    await mkdir(join(src, DIR), { recursive: true });
    const a = join(src, DIR, '111122223333_vpcflowlogs_eu-west-1_fl-1_20240501T1000Z_a.log.gz');
    const b = join(src, DIR, '111122223333_vpcflowlogs_eu-west-1_fl-1_20240501T1005Z_b.log.gz');
    await writeFile(a, gzipSync(objectA()));
    await writeFile(
      b,
      gzipSync(`${HEADER}\n${Array.from({ length: 10 }, (_v, i) => rec('500', '1', '443', i)).join('\n')}\n`),
    );
    const data = join(root, 'data');
    const args = [src, '--data', data, '--threads', '1', '--max-reject-ratio', '0.5', '--json'];

    for (const run of [1, 2]) {
      const out = await ingest(args);
      expect({ run, code: out.code, stderr: out.stderr }).toEqual({ run, code: 0, stderr: expect.any(String) });
      const summary = JSON.parse(out.stdout.trim().split('\n').at(-1)!);
      // The second run finds both objects loaded and does nothing: nothing failed, nothing retried.
      expect([run, summary.records, summary.rejects, summary.objects.failed]).toEqual(
        run === 1 ? [1, 40, 7, 0] : [2, 0, 0, 0],
      );
    }

    const db = await DuckDBInstance.create(join(data, '_flowql/ledger.duckdb'), { access_mode: 'READ_ONLY' });
    const c = await db.connect();
    const rejects = (
      await c.runAndReadAll(
        `SELECT s.uri, r.line::INTEGER AS line, r.field, r.reason, r.text FROM rejects r JOIN sources s USING (source_id) ORDER BY line`,
      )
    ).getRowObjectsJson();
    c.closeSync();
    db.closeSync();
    expect(rejects).toEqual(POISON.map(([line, text, field, reason]) => ({ uri: a, line, field, reason, text })));

    const api = await testApi(data);
    const DAY = '{ timeRange: { from: "2024-05-01", to: "2024-05-02" } }';
    type Answer = {
      flowSummary: { records: string; bytes: string; packets: string };
      trafficCost: { bytes: string; records: string };
      trafficEdges: { nodes: { records: string }[] };
    };
    const d = await gqlData<Answer>(
      api.yoga,
      `{ flowSummary(filter: ${DAY}) { records bytes packets }
         trafficCost(filter: ${DAY}) { bytes records }
         trafficEdges(filter: ${DAY}) { nodes { serverPort bytesToServer bytesToClient records } } }`,
    );
    // 30 good lines of 1000 bytes and 2 packets in a, 10 of 500 bytes and 1 packet in b.
    expect(d.flowSummary).toEqual({ records: '40', bytes: '35000', packets: '70' });
    expect(d.trafficCost).toEqual({ bytes: '35000', records: '40' });
    expect(d.trafficEdges.nodes.reduce((s, e) => s + Number(e.records), 0)).toBe(40);
    api.db.closeSync();
  }, 60_000);

  it('counts every rejected line and says how many the rejects table did not keep (10,000 per object)', async () => {
    const root = await mkdtemp(join(tmpdir(), 'flowql-many-rejects-'));
    roots.push(root);
    const src = join(root, 'src');
    await mkdir(join(src, DIR), { recursive: true });
    const lines = [HEADER, rec('100'), ...Array.from({ length: 10_003 }, () => rec('1.5')), rec('200')];
    await writeFile(join(src, DIR, 'many.log.gz'), gzipSync(`${lines.join('\n')}\n`));
    const data = join(root, 'data');
    const s = await runIngest({
      sources: [src],
      storage: await createLocalWarehouseStorage(data),
      threads: 1,
      derive: false,
    });
    expect([s.records, s.rejects, s.rejectsNotKept]).toEqual([2, 10_003, 3]);
    expect(formatSummary(s)).toContain('keeps the first 10000 of each object: 3 not kept)');
    const db = await DuckDBInstance.create(join(data, '_flowql/ledger.duckdb'), { access_mode: 'READ_ONLY' });
    const c = await db.connect();
    const kept = (
      await c.runAndReadAll(
        'SELECT count(*)::INTEGER AS n, min(line)::INTEGER AS lo, max(line)::INTEGER AS hi FROM rejects',
      )
    ).getRowObjectsJson();
    c.closeSync();
    db.closeSync();
    expect(kept).toEqual([{ n: 10_000, lo: 3, hi: 10_002 }]);
  }, 60_000);

  it('a Parquet flow log: rows with a value the parser refuses are rejects as `flowql parse` names them, never nulls', async () => {
    const root = await mkdtemp(join(tmpdir(), 'flowql-parquet-poison-'));
    roots.push(root);
    const src = join(root, 'src', DIR);
    await mkdir(src, { recursive: true });
    const file = join(src, 'poison.log.parquet');
    // AWS's Parquet columns; srcport INTEGER (a negative and a too-large port), packets text (a fraction, AWS's '-').
    const row = (srcport: number, packets: string, minute: number) =>
      `(2, '111122223333', 'eni-0a1', '10.0.0.1', '10.0.0.2', ${srcport}, 50000, 6, '${packets}', 1000, ${T0 + minute * 60}, ${T0 + minute * 60 + 30}, 'ACCEPT', 'OK')`;
    const rows = [
      row(443, '2', 0),
      row(-1, '2', 1),
      row(443, '1.5', 2),
      row(70000, '2', 3),
      row(443, '-', 4),
      row(443, '3', 5),
    ];
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    await c.run(
      `COPY (SELECT * FROM (VALUES ${rows.join(', ')}) t(version, account_id, interface_id, srcaddr, dstaddr, srcport, dstport, protocol, packets, bytes, start, "end", action, log_status))
       TO '${file}' (FORMAT parquet)`,
    );
    c.closeSync();
    db.closeSync();
    const parsed: { line: number; kind: string; reason?: string; field?: string }[] = [];
    for await (const item of readFlowFile({ name: file, path: file, open: async () => createReadStream(file) })) {
      parsed.push(
        item.kind === 'record'
          ? { line: item.line, kind: 'record' }
          : { line: item.line, kind: 'reject', reason: item.reason, field: item.field! },
      );
    }
    expect(parsed.filter((p) => p.kind === 'reject')).toEqual([
      { line: 2, kind: 'reject', field: 'srcport', reason: expect.stringContaining('srcport: ') },
      { line: 3, kind: 'reject', field: 'packets', reason: "packets: expected a non-negative integer, found '1.5'" },
      { line: 4, kind: 'reject', field: 'srcport', reason: expect.stringContaining('srcport: ') },
    ]);

    const data = join(root, 'data');
    const s = await runIngest({
      sources: [join(root, 'src')],
      storage: await createLocalWarehouseStorage(data),
      derive: false,
    });
    expect([s.records, s.rejects], JSON.stringify(s)).toEqual([3, 3]);
    const ledger = await DuckDBInstance.create(join(data, '_flowql/ledger.duckdb'), { access_mode: 'READ_ONLY' });
    const lc = await ledger.connect();
    const rejects = (
      await lc.runAndReadAll('SELECT line::INTEGER AS line, field, reason FROM rejects ORDER BY line')
    ).getRowObjectsJson();
    lc.closeSync();
    ledger.closeSync();
    expect(rejects).toEqual(
      parsed.filter((p) => p.kind === 'reject').map(({ line, field, reason }) => ({ line, field, reason })),
    );
    const api = await testApi(data);
    const flows = await gqlData<{ flows: { nodes: { srcPort: number; packets: string | null }[] } }>(
      api.yoga,
      `{ flows(filter: { timeRange: { from: "2024-05-01", to: "2024-05-02" } }, first: 10) { nodes { srcPort packets } } }`,
    );
    api.db.closeSync();
    expect(flows.flows.nodes).toEqual([
      { srcPort: 443, packets: '2' },
      { srcPort: 443, packets: null },
      { srcPort: 443, packets: '3' },
    ]);
  });
});
