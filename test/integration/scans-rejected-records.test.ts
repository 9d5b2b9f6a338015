// scans on flow logs without tcp-flags (src/analytics/scan-query.ts, docs/semantics.md §9): text objects ingested and
// derived by the real ingest path, then asked through GraphQL.
// Fixture (2024-05-01, one v2 default-format object for account 111122223333, one v5 object for 444455556666):
//   v2 VPC 10.1/16: the instance 10.1.0.66 probes 10.1.0.10-12 on ports 20-31 from port 51515 (36 probes, each an
//     ACCEPT egress line at the scanner and a REJECT line at the target); 198.51.100.77 probes 10.1.0.10 on 1000-1014
//     (15 REJECTs); 198.51.100.88 probes 10.1.0.11 on 2000-2011 (12 REJECTs). Normal traffic that must not show:
//     10.1.0.20 -> 10.1.0.10:443 accepted 5 times, 10.1.0.21 -> 10.1.0.10:3306 rejected twice, and 10.1.0.10's replies
//     from 443 to 203.0.113.1-12 dropped by an ACL (12 hosts and ports, but replies).
//   v5 VPC 10.2/16 (tcp-flags): 198.51.100.77 sends rejected SYNs to 10.2.0.10 on 3000-3011 (12); 198.51.100.88 on
//     4000-4001 (2); 203.0.113.50 accepted SYNs without reply on 5000-5010 (11 UNANSWERED); 10.2.0.20 -> 10.2.0.10:443
//     ESTABLISHED.
/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies are compared with literal values */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runIngest } from '../../src/ingest/ingest-run.ts';
import { createLocalWarehouseStorage } from '../../src/ingest/local-warehouse-storage.ts';
import type { Manifest } from '../../src/store/layout.ts';
import { gql, gqlData, testApi } from '../helpers/graphql.ts';

const V2_HEADER =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
const V5_HEADER =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status ' +
  'vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id sublocation-type sublocation-id ' +
  'pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path';
const NOON = 1_714_564_800; // 2024-05-01T12:00:00Z
const DAY = '{ from: "2024-05-01T00:00:00Z", to: "2024-05-02T00:00:00Z" }';
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_v, i) => from + i);

/** One v2 line (no tcp-flags, no direction). */
const v2 = (eni: string, src: string, dst: string, sport: number, dport: number, at: number, action: string) =>
  `2 111122223333 ${eni} ${src} ${dst} ${sport} ${dport} 6 1 44 ${at} ${at + 30} ${action} OK`;
/** One v5 line at 10.2.0.10's interface (ingress) or 10.2.0.20's (egress for its own SYN). */
const v5 = (src: string, dst: string, sport: number, dport: number, flags: number, action: string, dir: string) => {
  const [eni, instance] = dst === '10.2.0.10' || src === '10.2.0.10' ? ['eni-v5a', 'i-v5a'] : ['eni-v5b', 'i-v5b'];
  return (
    `5 444455556666 ${eni} ${src} ${dst} ${sport} ${dport} 6 1 44 ${NOON} ${NOON + 30} ${action} OK ` +
    `vpc-v5 subnet-v5 ${instance} ${flags} IPv4 ${src} ${dst} us-east-1 use1-az1 - - - - ${dir} ${dir === 'egress' ? 1 : '-'}`
  );
};

/** The generator's ground truth: every probe each scanner sent in the v2 VPC, as (host, port). */
const V2_PROBES: Record<string, { host: string; port: number }[]> = {
  '10.1.0.66': ['10.1.0.10', '10.1.0.11', '10.1.0.12'].flatMap((host) => range(20, 31).map((port) => ({ host, port }))),
  '198.51.100.77': range(1000, 1014).map((port) => ({ host: '10.1.0.10', port })),
  '198.51.100.88': range(2000, 2011).map((port) => ({ host: '10.1.0.11', port })),
};
const ENI_OF: Record<string, string> = { '10.1.0.10': 'eni-v2a', '10.1.0.11': 'eni-v2b', '10.1.0.12': 'eni-v2c' };

function v2Object(): string {
  const lines = [V2_HEADER];
  let at = NOON;
  for (const [scanner, probes] of Object.entries(V2_PROBES)) {
    for (const { host, port } of probes) {
      if (scanner === '10.1.0.66') lines.push(v2('eni-v2scan', scanner, host, 51515, port, at, 'ACCEPT'));
      lines.push(v2(ENI_OF[host]!, scanner, host, scanner === '10.1.0.66' ? 51515 : 61000, port, at, 'REJECT'));
      at += 1;
    }
  }
  for (const sport of range(50001, 50005)) {
    lines.push(v2('eni-v2d', '10.1.0.20', '10.1.0.10', sport, 443, NOON, 'ACCEPT'));
    lines.push(v2('eni-v2a', '10.1.0.20', '10.1.0.10', sport, 443, NOON, 'ACCEPT'));
    lines.push(v2('eni-v2a', '10.1.0.10', '10.1.0.20', 443, sport, NOON, 'ACCEPT'));
  }
  lines.push(v2('eni-v2a', '10.1.0.21', '10.1.0.10', 50100, 3306, NOON, 'REJECT'));
  lines.push(v2('eni-v2a', '10.1.0.21', '10.1.0.10', 50101, 3306, NOON + 60, 'REJECT'));
  for (const n of range(1, 12))
    lines.push(v2('eni-v2a', '10.1.0.10', `203.0.113.${n}`, 443, 40000 + n, NOON, 'REJECT'));
  return `${lines.join('\n')}\n`;
}

function v5Object(): string {
  const lines = [V5_HEADER];
  for (const p of range(3000, 3011)) lines.push(v5('198.51.100.77', '10.2.0.10', 62000, p, 2, 'REJECT', 'ingress'));
  for (const p of range(4000, 4001)) lines.push(v5('198.51.100.88', '10.2.0.10', 62001, p, 2, 'REJECT', 'ingress'));
  for (const p of range(5000, 5010)) lines.push(v5('203.0.113.50', '10.2.0.10', 62002, p, 2, 'ACCEPT', 'ingress'));
  lines.push(v5('10.2.0.20', '10.2.0.10', 50500, 443, 2, 'ACCEPT', 'ingress'));
  lines.push(v5('10.2.0.10', '10.2.0.20', 443, 50500, 18, 'ACCEPT', 'egress'));
  return `${lines.join('\n')}\n`;
}

const SCAN_FIELDS = `sourceAddr evidence sourceKind syns failed rejected unanswered rejectedRecords failedPorts failedHosts
  failedTargets firstSeen lastSeen`;
const scans = async (filter: string, minPorts = 10, minHosts = 10) =>
  (
    await gqlData<any>(
      api.yoga,
      `{ scans(filter: { timeRange: ${DAY}${filter ? `, ${filter}` : ''} }, minPorts: ${minPorts}, minHosts: ${minHosts}) {
        truncated nodes { ${SCAN_FIELDS} } } }`,
    )
  ).scans;
/** A row as [address, evidence, failedPorts, failedHosts, failedTargets]. */
const brief = (s: any) =>
  s.nodes.map((n: any) => [n.sourceAddr, n.evidence, n.failedPorts, n.failedHosts, n.failedTargets]);

/** What the v2 probes of `scanner` reached: [ports, hosts, targets] (each probe is one distinct target here). */
function truthOf(scanner: string): [number, number, number] {
  const probes = V2_PROBES[scanner]!;
  return [new Set(probes.map((p) => p.port)).size, new Set(probes.map((p) => p.host)).size, probes.length];
}

let root: string;
let data: string;
let api: Awaited<ReturnType<typeof testApi>>;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'flowql-scans-v2-'));
  const src = join(root, 'src');
  await mkdir(src);
  await writeFile(join(src, 'v2.log'), v2Object());
  await writeFile(join(src, 'v5.log'), v5Object());
  data = join(root, 'data');
  const summary = await runIngest({
    sources: [src],
    storage: await createLocalWarehouseStorage(data),
    derive: true,
    threads: 1,
  });
  expect([summary.records, summary.rejects]).toEqual([36 * 2 + 15 + 12 + 15 + 2 + 12 + 12 + 2 + 11 + 2, 0]);
  api = await testApi(data);
}, 120_000);

afterAll(async () => {
  api?.db.closeSync();
  await rm(root, { recursive: true, force: true });
});

describe('scans where records carry no tcp-flags', () => {
  it('stores the v2 lines without tcp-flags: a naive fan-out of rejected records also lists the ACL-dropped replies', async () => {
    // Hand-written DuckDB over the committed flows files: every rejected TCP record without tcp-flags, by source.
    const manifest = JSON.parse(await readFile(join(data, '_flowql/manifest.json'), 'utf8')) as Manifest;
    const files = manifest.files.filter((f) => f.table === 'flows').map((f) => join(data, f.path));
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    const reader = await c.runAndReadAll(
      `SELECT srcaddr, count(*)::INT AS records, count(DISTINCT dstport)::INT AS ports, count(DISTINCT dstaddr)::INT AS hosts,
              count(*) FILTER (srcport < dstport)::INT AS replies
       FROM read_parquet([${files.map((f) => `'${f}'`).join(', ')}])
       WHERE action = 'REJECT' AND protocol = 6 AND tcp_flags IS NULL GROUP BY srcaddr ORDER BY srcaddr`,
    );
    const naive = reader.getRowObjectsJS();
    c.closeSync();
    db.closeSync();
    expect(naive.map((r) => [r.srcaddr, r.records, r.ports, r.hosts, r.replies])).toEqual([
      ['10.1.0.10', 12, 12, 12, 12], // the replies: would pass minPorts and minHosts 10 as attempts
      ['10.1.0.21', 2, 1, 1, 0],
      ['10.1.0.66', 36, 12, 3, 0],
      ['198.51.100.77', 15, 15, 1, 0],
      ['198.51.100.88', 12, 12, 1, 0],
    ]);
  });

  it('lists v2 scanners from their rejected records and v5 scanners from their failed handshakes, each once', async () => {
    const all = await scans('');
    expect(all.truncated).toBe(false);
    expect(brief(all)).toEqual([
      ['10.1.0.66', 'REJECTED_RECORDS', ...truthOf('10.1.0.66')],
      // Passes on its v5 handshakes (12 rejected SYNs): listed on them, its 15 v2 records are not added to them.
      ['198.51.100.77', 'FAILED_HANDSHAKES', 12, 1, 12],
      // 2 failed handshakes do not pass; its v2 records do, so it is listed on them.
      ['198.51.100.88', 'REJECTED_RECORDS', ...truthOf('198.51.100.88')],
      ['203.0.113.50', 'FAILED_HANDSHAKES', 11, 1, 11],
    ]);
    const [v2Scanner, v5Scanner] = all.nodes;
    expect(v2Scanner).toEqual({
      sourceAddr: '10.1.0.66',
      evidence: 'REJECTED_RECORDS',
      sourceKind: null,
      syns: null,
      failed: null,
      rejected: null,
      unanswered: null,
      rejectedRecords: '36',
      failedPorts: 12,
      failedHosts: 3,
      failedTargets: 36,
      firstSeen: '2024-05-01T12:00:00.000Z',
      lastSeen: '2024-05-01T12:00:35.000Z',
    });
    expect(v5Scanner).toMatchObject({
      evidence: 'FAILED_HANDSHAKES',
      sourceKind: 'EXTERNAL',
      syns: '12',
      failed: '12',
      rejected: '12',
      unanswered: '0',
      rejectedRecords: null,
    });
  });

  it('on a v2-only window (one account) judges every source on its rejected records', async () => {
    expect(brief(await scans('accountIds: ["111122223333"]'))).toEqual([
      ['10.1.0.66', 'REJECTED_RECORDS', ...truthOf('10.1.0.66')],
      ['198.51.100.77', 'REJECTED_RECORDS', ...truthOf('198.51.100.77')],
      ['198.51.100.88', 'REJECTED_RECORDS', ...truthOf('198.51.100.88')],
    ]);
    // Below the thresholds nothing shows, and the 2 rejects of 10.1.0.21 only at minPorts 1.
    expect(brief(await scans('accountIds: ["111122223333"]', 16, 4))).toEqual([]);
    const low = brief(await scans('accountIds: ["111122223333"]', 1, 1)).map((r: any[]) => r[0]);
    expect(low).toEqual(['10.1.0.66', '198.51.100.77', '198.51.100.88', '10.1.0.21']);
  });

  it('applies the connection meaning of the filter to records: source, destination, destination port', async () => {
    expect(brief(await scans('srcAddr: ["10.1.0.66"]'))).toEqual([['10.1.0.66', 'REJECTED_RECORDS', 12, 3, 36]]);
    expect(brief(await scans('dstAddr: ["10.1.0.10"]'))).toEqual([
      ['198.51.100.77', 'REJECTED_RECORDS', 15, 1, 15],
      ['10.1.0.66', 'REJECTED_RECORDS', 12, 1, 12],
    ]);
    // port is the server port on connections: the destination port of an attempt, never the scanner's own 51515.
    expect(brief(await scans('port: [{ from: 20, to: 25 }]', 5, 100))).toEqual([
      ['10.1.0.66', 'REJECTED_RECORDS', 6, 3, 18],
    ]);
    expect(brief(await scans('port: [{ from: 51515, to: 51515 }]', 1, 1))).toEqual([]);
    expect(brief(await scans('srcPort: [{ from: 51515, to: 51515 }]'))).toEqual([
      ['10.1.0.66', 'REJECTED_RECORDS', 12, 3, 36],
    ]);
    // port and dstPort together: both hold.
    expect(brief(await scans('port: [{ from: 20, to: 25 }], dstPort: [{ from: 24, to: 40 }]', 2, 100))).toEqual([
      ['10.1.0.66', 'REJECTED_RECORDS', 2, 3, 6],
    ]);
    expect(brief(await scans('srcAddr: ["10.1.0.66"], notPorts: [{ from: 20, to: 29 }]', 2, 100))).toEqual([
      ['10.1.0.66', 'REJECTED_RECORDS', 2, 3, 6],
    ]);
    expect(brief(await scans('notProtocols: [6]', 1, 1))).toEqual([]);
  });

  it('refuses what connections refuse, on either kind of evidence', async () => {
    const res = await gql<any>(
      api.yoga,
      `{ scans(filter: { timeRange: ${DAY}, actions: [REJECT] }, minPorts: 1, minHosts: 1) { nodes { sourceAddr } } }`,
    );
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.message).toContain('filter.actions');
  });
});
