// Org tables through the real ingest path (issue 16): two accounts' flow logs land in one bucket in AWS's layout; the
// ingest derives org_handshakes/org_edges for their shared region, a later delivery of one account re-derives the
// org hours it touches and matches a from-scratch ingest of the same objects row for row, and `compact` merges the
// closed day's org hour files without changing an answer.
/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies are compared with literal values */
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { runCompact } from '../../src/ingest/ingest-compact.ts';
import { runIngest } from '../../src/ingest/ingest-run.ts';
import { runRederive } from '../../src/ingest/ingest-rederive.ts';
import { createLocalWarehouseStorage } from '../../src/ingest/local-warehouse-storage.ts';
import { underivedPartitions, type Manifest } from '../../src/store/layout.ts';
import { gqlData, testApi } from '../helpers/graphql.ts';

const A = '111111111111';
const B = '222222222222';
const HEADER =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status vpc-id subnet-id instance-id tcp-flags az-id flow-direction';
const T10 = Date.UTC(2024, 2, 1, 10) / 1000;
const T11 = Date.UTC(2024, 2, 1, 11) / 1000;

const ends = {
  [A]: {
    eni: 'eni-0a0000000000000a1',
    vpc: 'vpc-0a000001',
    subnet: 'subnet-0a000001',
    instance: 'i-0a0000000000000a1',
    az: 'use1-az1',
  },
  [B]: {
    eni: 'eni-0b0000000000000b1',
    vpc: 'vpc-0b000001',
    subnet: 'subnet-0b000001',
    instance: 'i-0b0000000000000b1',
    az: 'use1-az2',
  },
};
type Account = keyof typeof ends;

/** One record as `account` logs it. */
function line(
  account: Account,
  src: string,
  dst: string,
  sport: number,
  dport: number,
  flags: number,
  dir: string,
  bytes: number,
  start: number,
): string {
  const e = ends[account];
  return `5 ${account} ${e.eni} ${src} ${dst} ${sport} ${dport} 6 10 ${bytes} ${start} ${start + 60} ACCEPT OK ${e.vpc} ${e.subnet} ${e.instance} ${flags} ${e.az} ${dir}`;
}

/** One connection 10.0.1.10:port -> 10.1.2.20:443, logged by both accounts: `up` bytes to the server, `down` back. */
function connection(port: number, up: number, down: number, start: number): Record<Account, string[]> {
  return {
    [A]: [
      line(A, '10.0.1.10', '10.1.2.20', port, 443, 2, 'egress', up, start),
      line(A, '10.1.2.20', '10.0.1.10', 443, port, 18, 'ingress', down, start),
    ],
    [B]: [
      line(B, '10.0.1.10', '10.1.2.20', port, 443, 2, 'ingress', up, start),
      line(B, '10.1.2.20', '10.0.1.10', 443, port, 18, 'egress', down, start),
    ],
  } as Record<Account, string[]>;
}

async function deliver(src: string, account: Account, name: string, lines: string[]): Promise<void> {
  const dir = join(src, `AWSLogs/${account}/vpcflowlogs/us-east-1/2024/03/01`);
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, `${account}_vpcflowlogs_us-east-1_fl-0${name}_20240301T1000Z_${name}.log.gz`),
    gzipSync(`${HEADER}\n${lines.join('\n')}\n`),
  );
}

const ingest = async (src: string, data: string) =>
  runIngest({ sources: [src], storage: await createLocalWarehouseStorage(data), derive: true, threads: 1 });
const manifestOf = async (data: string) =>
  JSON.parse(await readFile(join(data, '_flowql/manifest.json'), 'utf8')) as Manifest;

/** Every org_edges row of a warehouse, as text, in file order. */
async function orgEdgeRows(data: string): Promise<string[]> {
  const files = (await manifestOf(data)).files
    .filter((f) => f.table === 'org_edges')
    .map((f) => `'${join(data, f.path)}'`);
  const db = await DuckDBInstance.create(':memory:');
  try {
    const c = await db.connect();
    const rows = await c.runAndReadAll(
      `SELECT * EXCLUDE (region, date) FROM read_parquet([${files.join(', ')}], hive_partitioning = true) ORDER BY ALL`,
    );
    return rows.getRowObjectsJson().map((r) => JSON.stringify(r));
  } finally {
    db.closeSync();
  }
}

const EDGES = `{ trafficEdges(filter: { timeRange: { from: "2024-03-01T00:00:00Z", to: "2024-03-02T00:00:00Z" } }, level: INSTANCE) { nodes { client { id accountId } server { id accountId } bytesToServer bytesToClient connections } } }`;

describe('org tables through ingest', () => {
  it('are derived at ingest, re-derived by a later delivery as a from-scratch ingest derives them, and survive compact', async () => {
    const root = await mkdtemp(join(tmpdir(), 'flowql-org-ingest-'));
    const [src, data, scratch] = ['src', 'data', 'scratch'].map((d) => join(root, d)) as [string, string, string];
    const first = connection(40000, 1000, 20000, T10);
    await deliver(src, A, 'a1', first[A]);
    await deliver(src, B, 'b1', first[B]);
    await ingest(src, data);
    const org = (await manifestOf(data)).files.filter((f) => f.table.startsWith('org_'));
    expect(org.map((f) => `${f.table} ${f.accountId} ${f.region} ${f.date}`).sort()).toEqual([
      'org_edges * us-east-1 2024-03-01',
      'org_handshakes * us-east-1 2024-03-01',
    ]);

    // A later hour: B's object first (A's records of that hour arrive in the next delivery).
    const second = connection(40001, 500, 7000, T11);
    await deliver(src, B, 'b2', second[B]);
    await ingest(src, data);
    await deliver(src, A, 'a2', second[A]);
    await ingest(src, data);

    const api = await testApi(data);
    try {
      const d: any = await gqlData(api.yoga, EDGES);
      expect(d.trafficEdges.nodes).toEqual([
        {
          client: { id: ends[A].instance, accountId: A },
          server: { id: ends[B].instance, accountId: B },
          bytesToServer: '1500',
          bytesToClient: '27000',
          connections: '2',
        },
      ]);
    } finally {
      api.db.closeSync();
    }

    // The same objects ingested at once: the same org rows.
    await ingest(src, scratch);
    expect(await orgEdgeRows(data)).toEqual(await orgEdgeRows(scratch));

    // Compact merges the closed day's hour files, org ones included; the answer stays.
    const before = await orgEdgeRows(data);
    await runCompact({ storage: await createLocalWarehouseStorage(data) });
    const merged = (await manifestOf(data)).files.filter((f) => f.table === 'org_edges');
    expect(merged.map((f) => f.path.replace(/-[0-9a-f-]{36}\.parquet$/, ''))).toEqual([
      'org_edges/region=us-east-1/date=2024-03-01/part-derived-h10-h11',
    ]);
    expect(await orgEdgeRows(data)).toEqual(before);
  });

  it('a warehouse without org files (loaded with --no-derive, or derived before they existed) lists its shared partitions as underived; flowql derive writes them', async () => {
    const root = await mkdtemp(join(tmpdir(), 'flowql-org-rederive-'));
    const [src, data] = ['src', 'data'].map((d) => join(root, d)) as [string, string];
    const first = connection(40000, 1000, 20000, T10);
    await deliver(src, A, 'a1', first[A]);
    await deliver(src, B, 'b1', first[B]);
    await runIngest({ sources: [src], storage: await createLocalWarehouseStorage(data), derive: false, threads: 1 });
    const manifest = await manifestOf(data);
    expect(manifest.files.filter((f) => f.table !== 'flows')).toEqual([]);
    expect(underivedPartitions(manifest.files)).toEqual([`${A}/us-east-1/2024-03-01`, `${B}/us-east-1/2024-03-01`]);
    // With the per-account tables but no org file (a warehouse derived before org tables existed), still underived.
    const perAccountOnly = [
      ...manifest.files,
      ...(['handshakes', 'edges', 'flows_hourly'] as const).flatMap((table) =>
        [A, B].map((accountId) => ({ ...manifest.files[0]!, table, accountId, path: `${table}/x.parquet` })),
      ),
    ];
    expect(underivedPartitions(perAccountOnly)).toEqual([`${A}/us-east-1/2024-03-01`, `${B}/us-east-1/2024-03-01`]);

    const summary = await runRederive({ storage: await createLocalWarehouseStorage(data) });
    expect(summary.partitionsDerived).toBe(2);
    const after = await manifestOf(data);
    expect(underivedPartitions(after.files)).toEqual([]);
    expect(after.files.filter((f) => f.table === 'org_edges')).toHaveLength(1);
    const api = await testApi(data);
    try {
      const d: any = await gqlData(api.yoga, EDGES);
      expect(d.trafficEdges.nodes.map((n: any) => `${n.client.id}->${n.server.id}`)).toEqual([
        `${ends[A].instance}->${ends[B].instance}`,
      ]);
    } finally {
      api.db.closeSync();
    }
  });

  it("a region that becomes shared: flowql derive writes the earlier days' org files and keeps their per-account files", async () => {
    const root = await mkdtemp(join(tmpdir(), 'flowql-org-newly-shared-'));
    const [src, data] = ['src', 'data'].map((d) => join(root, d)) as [string, string];
    // Day 1 (29 Feb): only A logs in the region.
    const dir = join(src, `AWSLogs/${A}/vpcflowlogs/us-east-1/2024/02/29`);
    await mkdir(dir, { recursive: true });
    const feb29 = Date.UTC(2024, 1, 29, 10) / 1000;
    await writeFile(
      join(dir, `${A}_vpcflowlogs_us-east-1_fl-0a0_20240229T1000Z_a0.log.gz`),
      gzipSync(`${HEADER}\n${line(A, '10.0.1.10', '10.0.1.99', 40000, 22, 2, 'egress', 100, feb29)}\n`),
    );
    await ingest(src, data);
    // Day 2: B starts logging there too; the ingest derives the org files of the days it touches only.
    const first = connection(40000, 1000, 20000, T10);
    await deliver(src, A, 'a1', first[A]);
    await deliver(src, B, 'b1', first[B]);
    await ingest(src, data);
    const before = await manifestOf(data);
    expect(underivedPartitions(before.files)).toEqual([`${A}/us-east-1/2024-02-29`]);
    const ownFeb29 = before.files.filter((f) => f.accountId === A && f.date === '2024-02-29' && f.table !== 'flows');

    const summary = await runRederive({ storage: await createLocalWarehouseStorage(data) });
    const after = await manifestOf(data);
    expect(underivedPartitions(after.files)).toEqual([]);
    expect(summary.filesRetired).toBe(0);
    // The per-account files of that day are the same files; the org ones are new.
    expect(after.files.filter((f) => f.accountId === A && f.date === '2024-02-29' && f.table !== 'flows')).toEqual(
      ownFeb29,
    );
    expect(
      after.files
        .filter((f) => f.table.startsWith('org_') && f.date === '2024-02-29')
        .map((f) => f.table)
        .sort(),
    ).toEqual(['org_edges', 'org_handshakes']);
  });
});
