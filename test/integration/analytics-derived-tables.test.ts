/**
 * The derived `handshakes/` and `edges/` tables end to end: a fixture warehouse of every semantics.md §7 case,
 * deriveTables as the ingest hook would run it, the manifest swap, and the API readers over the locked-down
 * DuckDB instance; then a late file that changes the previous day's answer.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyDerivedFiles, deriveTables } from '../../src/analytics/derive-tables.ts';
import { derivedFileHours, wholePartitions } from '../../src/analytics/derived-hours.ts';
import { validateFlowFilter } from '../../src/domain/flow-filter.ts';
import type { ManifestFile } from '../../src/store/layout.ts';
import { readEdges } from '../../src/questions/edge-reader.ts';
import { handshakeKeyOf, readHandshakes } from '../../src/questions/handshake-reader.ts';
import { storedRecord, writeDerivedFixtureWarehouse } from '../helpers/derived-fixture.ts';
import { testQueryContext } from '../helpers/query-context.ts';
import { writeFixtureWarehouse } from '../helpers/warehouse-fixture.ts';
import * as C from '../unit/analytics/connection-cases.ts';

/** What the ingest hook does after a commit: derive the touched partitions and swap the derived files in. */
const ingestAndDerive = writeDerivedFixtureWarehouse;

const day1 = validateFlowFilter({ timeRange: { from: '2024-03-01T00:00:00Z', to: '2024-03-02T00:00:00Z' } });

describe('derived connection tables', () => {
  let root: string;
  let files: readonly ManifestFile[];
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'flowql-derived-'));
    files = await ingestAndDerive(root, Object.values(C).flat());
  });

  it('writes the older hours of a day into one file, the newest hours a file each, and one empty file for a partition with none', () => {
    const hours = (table: string, date: string) =>
      files
        .filter((f) => f.table === table && f.date === date)
        .map((f) => derivedFileHours(f.path))
        .sort((a, b) => a[0] - b[0]);
    // The fixture's records start in hours 8, 10, 11, 14 and 23 of 2024-03-01, and in hour 0 of 2024-03-02: hours
    // from 22:00 on (two before the newest record's) are still receiving deliveries and get a file each, the older
    // ones share one named by its first and last hour with rows.
    expect(hours('flows_hourly', '2024-03-01')).toEqual([
      [8, 14],
      [23, 23],
    ]);
    expect(hours('edges', '2024-03-01')).toEqual([
      [8, 14],
      [23, 23],
    ]);
    expect(hours('edges', '2024-03-02')).toEqual([[0, 0]]);
    // 8 handshakes start on 2024-03-01 (SSH 1, flag sequence 2, instance pair 1, NAT 1, rejected 1, unanswered 1,
    // midnight 1); none on 2024-03-02, whose one file is empty.
    const handshakes = files.filter((f) => f.table === 'handshakes');
    expect(handshakes.filter((f) => f.date === '2024-03-01').reduce((n, f) => n + f.rows, 0)).toBe(8);
    expect(handshakes.filter((f) => f.date === '2024-03-02').map((f) => f.rows)).toEqual([0]);
  });

  it('pages handshakes by keyset from the derived table, states filter included', async () => {
    const ctx = await testQueryContext(root);
    const seen: string[] = [];
    let after = null;
    for (let page = 0; page < 5; page++) {
      const p = await readHandshakes(ctx, { filter: day1, states: null, first: 3, after });
      seen.push(...p.rows.map((r) => `${r.clientAddr}:${r.clientPort}>${r.serverPort} ${r.state}`));
      if (!p.hasNextPage) break;
      after = handshakeKeyOf(p.rows[p.rows.length - 1]!);
    }
    expect(seen).toEqual([
      // Four start at 10:00:00; ties are ordered by client address as text.
      '10.0.1.10:51000>5432 ESTABLISHED',
      '10.0.1.5:40001>443 ESTABLISHED',
      '198.51.100.7:62897>22 ESTABLISHED',
      '52.213.180.42:43416>5001 ESTABLISHED',
      '52.213.180.42:43418>5001 ESTABLISHED',
      '10.0.0.5:45000>8443 UNANSWERED',
      '203.0.113.9:50000>3389 REJECTED',
      '198.51.100.8:60000>443 ESTABLISHED',
    ]);
    const failed = await readHandshakes(ctx, {
      filter: day1,
      states: ['REJECTED', 'UNANSWERED'],
      first: 10,
      after: null,
    });
    expect(failed.rows.map((r) => r.serverPort)).toEqual([8443, 3389]);
  });

  it('ranks instance-level edges by bytes, each counted once (the instance pair: 10060 + 50060, not the naive 120240)', async () => {
    const ctx = await testQueryContext(root);
    const page = await readEdges(ctx, { filter: day1, level: 'INSTANCE', orderBy: 'BYTES', first: 4, offset: 0 });
    expect(
      page.rows.map((e) => [e.client.id, e.server.id, e.serverPort, Number(e.bytesToServer + e.bytesToClient)]),
    ).toEqual([
      ['52.213.180.42', 'i-62', 5001, 103106],
      ['i-a', 'i-b', 5432, 60120],
      ['198.51.100.7', 'i-srv', 22, 12000],
      ['i-app', '203.0.113.5', 443, 6000],
    ]);
    expect(page.hasNextPage).toBe(true);
    // Cost lens: the instance pair crosses AZs (use1-az1 -> use1-az2); the NAT edge goes through the NAT gateway.
    expect(page.rows[1]?.crossAzBytes).toBe(60120n);
    expect(page.rows[0]?.crossAzBytes).toBe(0n);
    expect([page.rows[3]?.natBytes, page.rows[3]?.internetBytes]).toEqual([6000n, 1000n]);
  });

  it('answers the same from the derived table as from raw records', async () => {
    const ctx = await testQueryContext(root);
    const derived = await readEdges(ctx, { filter: day1, level: 'SUBNET', orderBy: 'BYTES', first: 50, offset: 0 });
    const rawRoot = await mkdtemp(join(tmpdir(), 'flowql-raw-'));
    await writeFixtureWarehouse(rawRoot, Object.values(C).flat().map(storedRecord));
    const rawCtx = await testQueryContext(rawRoot);
    const fromRaw = await readEdges(rawCtx, { filter: day1, level: 'SUBNET', orderBy: 'BYTES', first: 50, offset: 0 });
    const strip = (rows: readonly object[]) =>
      rows.map((r) => JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? String(v) : v)));
    expect(strip(fromRaw.rows)).toEqual(strip(derived.rows));
    expect(derived.rows.length).toBeGreaterThan(5);
  });
});

describe('late files', () => {
  it('turns an UNANSWERED handshake into ESTABLISHED when the SYN-ACK arrives in a later file after midnight', async () => {
    const root = await mkdtemp(join(tmpdir(), 'flowql-late-'));
    const [syn, synAck] = C.MIDNIGHT;
    await ingestAndDerive(root, [syn!]);
    const before = await readHandshakes(await testQueryContext(root), {
      filter: day1,
      states: null,
      first: 5,
      after: null,
    });
    expect(before.rows.map((r) => r.state)).toEqual(['UNANSWERED']);
    const files = await ingestAndDerive(root, [synAck!]);
    const after = await readHandshakes(await testQueryContext(root), {
      filter: day1,
      states: null,
      first: 5,
      after: null,
    });
    expect(after.rows.map((r) => r.state)).toEqual(['ESTABLISHED']);
    // 2024-03-01's hour 23 was re-derived (the SYN-ACK starts in the half hour after it) and swapped, not duplicated;
    // 2024-03-02 was derived for the first time.
    expect(
      files
        .filter((f) => f.table === 'handshakes')
        .map((f) => `${f.date} h${derivedFileHours(f.path)[0]} ${f.rows}`)
        .sort(),
    ).toEqual(['2024-03-01 h23 1', '2024-03-02 h0 0']);
  });
});

describe('a derived partition keeps a file', () => {
  it('when a replaced object removes the records of its last hours with rows, an empty file still says it is derived', async () => {
    const root = await mkdtemp(join(tmpdir(), 'flowql-derived-empty-'));
    // UDP only: no handshake in any hour, so handshakes/ holds one empty file.
    const udp = (hour: string) => ({
      version: 5,
      account_id: '123456789012',
      region: 'us-east-1',
      interface_id: 'eni-u',
      instance_id: 'i-u',
      vpc_id: 'vpc-1',
      subnet_id: 'subnet-a',
      az_id: 'use1-az1',
      srcaddr: '10.0.0.1',
      dstaddr: '10.0.0.2',
      srcport: 40000,
      dstport: 53,
      protocol: 17,
      packets: 1,
      bytes: 80,
      start_time: new Date(`2024-03-01T${hour}:00:00Z`),
      end_time: new Date(`2024-03-01T${hour}:00:30Z`),
      action: 'ACCEPT',
      log_status: 'OK',
      tcp_flags: null,
      flow_direction: 'egress',
    });
    const [both] = await writeFixtureWarehouse(root, [udp('10'), udp('15')]);
    const db = await DuckDBInstance.create(':memory:');
    const first = await deriveTables({ db, root, files: [both!], changes: wholePartitions([both!]) });
    const derived = first.files.map(({ stagedPath: _s, ...f }) => f);
    expect(derived.filter((f) => f.table === 'handshakes').map((f) => f.rows)).toEqual([0]);
    // The object is replaced by one holding only the 15:00 record: the change is at 10:00, whose hours have no input.
    const [later] = await writeFixtureWarehouse(root, [udp('15')]);
    const second = await deriveTables({
      db,
      root,
      files: [later!, ...derived],
      changes: [
        {
          partition: later!,
          starts: [{ from: new Date('2024-03-01T10:00:00Z'), to: new Date('2024-03-01T10:00:01Z') }],
        },
      ],
    });
    db.closeSync();
    const after = applyDerivedFiles([later!, ...derived], second).filter((f) => f.table === 'handshakes');
    expect(after.map((f) => f.rows)).toEqual([0]);
    // The empty file is named after hour 0, which the change at 10:00 does not reach: it stays, and says so still.
    expect(after.map((f) => f.path)).toEqual(derived.filter((f) => f.table === 'handshakes').map((f) => f.path));
    expect(after[0]!.path).toMatch(/part-derived-h00-/);
  });
});
