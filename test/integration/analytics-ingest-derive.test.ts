// The ingester derives handshakes/, edges/ and flows_hourly/ inside each commit (src/ingest/ingest-derive.ts): same
// ledger transaction, same manifest swap, previous derived files of re-derived partitions retired (kept for a grace period).
// Fixture: AWS's TCP flag sequence example (test/fixtures/aws/tcp-flag-sequence.log), one interface eni-1235b8ca...
// (10.0.0.62, instance i-01234567890123456) talking to 52.213.180.42 on port 5001:
//   2019-08-26: 43416 (2 / 18) and 43418 (2 / 18, then FIN both ways) -> 2 ESTABLISHED handshakes;
//   2019-08-27: 43638 (3 / 19)                                         -> 1 ESTABLISHED handshake, closed.
import { access, copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { validateFlowFilter } from '../../src/domain/flow-filter.ts';
import { runIngest } from '../../src/ingest/ingest-run.ts';
import { createLocalWarehouseStorage } from '../../src/ingest/local-warehouse-storage.ts';
import type { Manifest } from '../../src/store/layout.ts';
import { readEdges } from '../../src/questions/edge-reader.ts';
import { readHandshakes } from '../../src/questions/handshake-reader.ts';
import { testQueryContext } from '../helpers/query-context.ts';

const FIXTURE = join(import.meta.dirname, '../fixtures/aws/tcp-flag-sequence.log');
const DIR = 'AWSLogs/123456789010/vpcflowlogs/us-east-1/2019/08/26';
const aug26 = validateFlowFilter({ timeRange: { from: '2019-08-26T00:00:00Z', to: '2019-08-27T00:00:00Z' } });
const aug27 = validateFlowFilter({ timeRange: { from: '2019-08-27T00:00:00Z', to: '2019-08-28T00:00:00Z' } });

const manifestOf = async (data: string) =>
  JSON.parse(await readFile(join(data, '_flowql/manifest.json'), 'utf8')) as Manifest;
const summary = (m: Manifest) => m.files.map((f) => `${f.table} ${f.date} ${f.rows}`).sort();
const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

async function ingest(src: string, data: string) {
  return runIngest({ sources: [src], storage: await createLocalWarehouseStorage(data), derive: true, threads: 1 });
}

describe('ingest with derivation', () => {
  it('commits derived tables with the flows, and re-derives (retiring the old files) when an object changes', async () => {
    const root = await mkdtemp(join(tmpdir(), 'flowql-ingest-derive-'));
    const src = join(root, 'src');
    const data = join(root, 'data');
    await mkdir(join(src, DIR), { recursive: true });
    const object = join(src, DIR, '123456789010_vpcflowlogs_us-east-1_fl-1_20190826T1925Z_hash.log');
    await copyFile(FIXTURE, object);

    const first = await ingest(src, data);
    expect([first.records, first.filesWritten]).toEqual([8, 2]); // derived files are not counted as written flows files
    const m1 = await manifestOf(data);
    expect(summary(m1)).toEqual([
      'edges 2019-08-26 1', // one edge row: the 19:00 hour, 52.213.180.42 -> i-01234567890123456:5001
      'edges 2019-08-27 1',
      'flows 2019-08-26 6',
      'flows 2019-08-27 2',
      // Per hour without the source port: to the server on 5001, and back to each of the two client ports.
      'flows_hourly 2019-08-26 3',
      'flows_hourly 2019-08-27 2',
      'handshakes 2019-08-26 2',
      'handshakes 2019-08-27 1',
    ]);

    const ctx = await testQueryContext(data);
    const hs = await readHandshakes(ctx, { filter: aug26, states: null, first: 10, after: null });
    expect(hs.rows.map((r) => [r.clientPort, r.state, r.closed, r.server.instanceId])).toEqual([
      [43416, 'ESTABLISHED', false, 'i-01234567890123456'],
      [43418, 'ESTABLISHED', true, 'i-01234567890123456'],
    ]);
    const edges = await readEdges(ctx, { filter: aug26, level: 'INSTANCE', orderBy: 'BYTES', first: 10, offset: 0 });
    // To the server: 568 + 100701 + 23294588; to the client: 376 + 632 + 63388. Two connections.
    expect(
      edges.rows.map((e) => [e.client.id, e.server.id, e.serverPort, e.bytesToServer, e.bytesToClient, e.connections]),
    ).toEqual([['52.213.180.42', 'i-01234567890123456', 5001, 23395857n, 64396n, 2n]]);

    // The object changes: its last record (43638's SYN-ACK, 2019-08-27) is gone. The replacing commit re-derives
    // both days: 43638 is now UNANSWERED (flags 3 is a SYN, with FIN).
    const lines = (await readFile(FIXTURE, 'utf8')).trimEnd().split('\n');
    await writeFile(object, `${lines.slice(0, 8).join('\n')}\n`);
    const second = await ingest(src, data);
    expect(second.objects.replaced).toBe(1);
    const m2 = await manifestOf(data);
    expect(summary(m2)).toEqual([
      'edges 2019-08-26 1',
      'edges 2019-08-27 1',
      'flows 2019-08-26 6',
      'flows 2019-08-27 1',
      'flows_hourly 2019-08-26 3',
      'flows_hourly 2019-08-27 1',
      'handshakes 2019-08-26 2',
      'handshakes 2019-08-27 1',
    ]);
    // Replaced derived files are retired, not deleted: listed as such and kept for the grace period (retired-files.ts).
    const retired = new Set((m2.retired ?? []).map((r) => r.path));
    for (const f of m1.files.filter((f) => f.table !== 'flows'))
      expect([retired.has(f.path), await exists(join(data, f.path))]).toEqual([true, true]);
    for (const f of m2.files) expect(await exists(join(data, f.path))).toBe(true);
    const after27 = await readHandshakes(await testQueryContext(data), {
      filter: aug27,
      states: null,
      first: 10,
      after: null,
    });
    expect(after27.rows.map((r) => [r.clientPort, r.state, r.closed])).toEqual([[43638, 'UNANSWERED', true]]);

    // It changes again, losing every 2019-08-27 record: that day's derived files go with its flows.
    await writeFile(object, `${lines.slice(0, 7).join('\n')}\n`);
    await ingest(src, data);
    expect(summary(await manifestOf(data))).toEqual([
      'edges 2019-08-26 1',
      'flows 2019-08-26 6',
      'flows_hourly 2019-08-26 3',
      'handshakes 2019-08-26 2',
    ]);

    const db = await DuckDBInstance.create(join(data, '_flowql/ledger.duckdb'), { access_mode: 'READ_ONLY' });
    const c = await db.connect();
    const live = (
      await c.runAndReadAll(
        "SELECT table_name, count(*) AS n FROM files WHERE state = 'live' GROUP BY ALL ORDER BY ALL",
      )
    ).getRowObjectsJson();
    c.closeSync();
    db.closeSync();
    expect(live).toEqual([
      { table_name: 'edges', n: '1' },
      { table_name: 'flows', n: '1' },
      { table_name: 'flows_hourly', n: '1' },
      { table_name: 'handshakes', n: '1' },
    ]);
  });
});
