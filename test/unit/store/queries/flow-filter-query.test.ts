/**
 * Fixture (10 records, 5 partitions), flow_id = record number. Accounts A=111111111111, B=222222222222.
 *  id acct region    start (UTC)       srcaddr               dstaddr               sport dport proto action   flags
 *   1 A    us-east-1 05-01 10:00       10.0.1.5              10.0.2.9              40000    22   6 ACCEPT      2
 *   2 A    us-east-1 05-01 10:00       10.0.2.9              10.0.1.5                 22 40000   6 ACCEPT     18
 *   3 A    us-east-1 05-01 11:00       10.1.16.7             10.1.31.200            5353    53  17 ACCEPT      -  5 s long
 *   4 A    us-east-1 05-01 12:00       10.1.32.1             8.8.8.8                 123   443   6 REJECT      4
 *   5 A    eu-west-1 05-01 13:00       2600:1f18:abcd:1::10  2600:1f18:abcd:2::20   5000   443   6 ACCEPT      3  40 pkts, 5 MB
 *   6 A    eu-west-1 05-01 13:30       2001:db8::1           2600:1f18:abcd:1::10    443  5000   6 ACCEPT     19
 *   7 B    us-east-1 05-01 14:00       (NODATA: no addresses, ports, protocol, action, flags)
 *   8 B    us-east-1 05-02 01:00       192.168.1.1           10.0.1.5               1024  3389   6 REJECT      2
 *   9 B    us-east-1 05-02 02:00       10.0.1.5              52.216.0.1            50000   443   6 ACCEPT      2  S3, path 8, 600 MB
 *  10 A    us-east-1 05-02 03:00       172.16.0.1            10.0.2.9               2048    22   6 ACCEPT      2  vpc-0aaaaaaaaaaaaaaaa
 * Every record but 5 and 9 has 1 packet of 100 bytes; every record but 3 lasts 30 s.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateFlowFilter, type FlowFilterInput } from '../../../../src/domain/flow-filter.ts';
import { FILTER_FIELD_NAMES, FILTER_FIELDS, type FilterField } from '../../../../src/domain/filter-fields.ts';
import { flowFilterSql, prunePartitions, recordConditionSql } from '../../../../src/store/queries/flow-filter-query.ts';
import { parquetSourceSql } from '../../../../src/store/queries/parquet-source-query.ts';
import { runQuery, type QueryContext } from '../../../../src/store/query-runner.ts';
import { build, sql } from '../../../../src/store/sql.ts';
import { writeFixtureWarehouse, type FixtureRecord } from '../../../helpers/warehouse-fixture.ts';
import { testQueryContext } from '../../../helpers/query-context.ts';

const A = '111111111111';
const B = '222222222222';
const rec = (
  id: number,
  account: string,
  region: string,
  start: string,
  more: Partial<FixtureRecord>,
): FixtureRecord => ({
  flow_id: id,
  account_id: account,
  region,
  start_time: `2024-${start}:00Z`,
  end_time: `2024-${start}:30Z`,
  log_status: 'OK',
  ...more,
});
const tcp = (s: string, d: string, sp: number, dp: number, action: string, flags: number | null, proto = 6) => ({
  srcaddr: s,
  dstaddr: d,
  srcport: sp,
  dstport: dp,
  protocol: proto,
  action,
  tcp_flags: flags,
  packets: 1,
  bytes: 100,
});
const RECORDS: FixtureRecord[] = [
  rec(1, A, 'us-east-1', '05-01T10:00', tcp('10.0.1.5', '10.0.2.9', 40000, 22, 'ACCEPT', 2)),
  rec(2, A, 'us-east-1', '05-01T10:00', tcp('10.0.2.9', '10.0.1.5', 22, 40000, 'ACCEPT', 18)),
  rec(3, A, 'us-east-1', '05-01T11:00', {
    ...tcp('10.1.16.7', '10.1.31.200', 5353, 53, 'ACCEPT', null, 17),
    end_time: '2024-05-01T11:00:05Z',
  }),
  rec(4, A, 'us-east-1', '05-01T12:00', tcp('10.1.32.1', '8.8.8.8', 123, 443, 'REJECT', 4)),
  rec(5, A, 'eu-west-1', '05-01T13:00', {
    ...tcp('2600:1f18:abcd:1::10', '2600:1f18:abcd:2::20', 5000, 443, 'ACCEPT', 3),
    packets: 40,
    bytes: 5_000_000,
  }),
  rec(6, A, 'eu-west-1', '05-01T13:30', tcp('2001:db8::1', '2600:1f18:abcd:1::10', 443, 5000, 'ACCEPT', 19)),
  rec(7, B, 'us-east-1', '05-01T14:00', { log_status: 'NODATA' }),
  rec(8, B, 'us-east-1', '05-02T01:00', tcp('192.168.1.1', '10.0.1.5', 1024, 3389, 'REJECT', 2)),
  rec(9, B, 'us-east-1', '05-02T02:00', {
    ...tcp('10.0.1.5', '52.216.0.1', 50000, 443, 'ACCEPT', 2),
    bytes: 600_000_000,
    pkt_dst_aws_service: 'S3',
    traffic_path: 8,
  }),
  rec(10, A, 'us-east-1', '05-02T03:00', {
    ...tcp('172.16.0.1', '10.0.2.9', 2048, 22, 'ACCEPT', 2),
    vpc_id: 'vpc-0aaaaaaaaaaaaaaaa',
  }),
];
const WINDOW = { from: '2024-05-01T00:00:00Z', to: '2024-05-03T00:00:00Z' };

/** A value of every filter field, as a client sends it (typed over every field: a new one must get a sample). */
const SAMPLE_INPUT: Readonly<Record<FilterField, unknown>> = {
  accountIds: [A],
  regions: ['us-east-1'],
  vpcIds: ['vpc-0aaaaaaaaaaaaaaaa'],
  subnetIds: ['subnet-0aaaaaaaaaaaaaaaa'],
  instanceIds: ['i-0aaaaaaaaaaaaaaaa'],
  interfaceIds: ['eni-0aaaaaaaaaaaaaaaa'],
  srcAddr: ['10.0.0.0/8'],
  dstAddr: ['2600:1f18::/32'],
  addr: ['10.0.1.5'],
  notSrcAddr: ['10.0.0.0/8'],
  notDstAddr: ['10.0.0.0/8'],
  notAddr: ['10.0.0.0/8'],
  srcPort: [{ from: 1024, to: 65535 }],
  dstPort: [{ from: 443 }],
  port: [{ from: 22 }],
  notSrcPort: [{ from: 22 }],
  notDstPort: [{ from: 22 }],
  notPorts: [{ from: 22 }],
  protocols: [6],
  notProtocols: [17],
  actions: ['REJECT'],
  logStatuses: ['OK'],
  tcpFlags: { any: ['SYN'], all: ['ACK'], none: ['RST'] },
  flowDirections: ['egress'],
  trafficPaths: [1],
  pktSrcAwsServices: ['S3'],
  pktDstAwsServices: ['S3'],
  awsServices: ['S3'],
  networks: ['office-paris'],
  tag: { key: 'team', values: ['payments'] },
  minBytes: '1',
  maxBytes: '2',
  minPackets: '1',
  maxPackets: '2',
  minDurationSeconds: 1,
  maxDurationSeconds: 2,
};

let root: string;
let ctx: QueryContext;

beforeAll(async () => {
  root = await mkdtemp(joinPath(tmpdir(), 'flowql-filter-'));
  await writeFixtureWarehouse(root, RECORDS);
  ctx = await testQueryContext(root);
});
afterAll(async () => {
  ctx.db.closeSync();
  await rm(root, { recursive: true, force: true });
});

async function matching(input: FlowFilterInput, scopeAccountIds?: string[]): Promise<number[]> {
  const filter = validateFlowFilter({ timeRange: WINDOW, ...input }, { scopeAccountIds });
  const manifest = await ctx.warehouse.manifest();
  const files = prunePartitions(manifest.files, filter).map((f) => ctx.warehouse.absolutePath(f));
  const q = build(
    'test.ids',
    sql`SELECT flow_id FROM ${parquetSourceSql(files)} WHERE ${flowFilterSql(filter)} ORDER BY flow_id`,
  );
  return (await runQuery(ctx, q)).map((r) => Number(r.flow_id));
}

describe('flowFilterSql over a fixture warehouse', () => {
  const cases: [string, FlowFilterInput, number[]][] = [
    ['no conditions: the whole window', {}, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]],
    ['IPv4 /8 by string prefix', { srcAddr: ['10.0.0.0/8'] }, [1, 2, 3, 4, 9]],
    ['IPv4 /20: 10.1.16.0-10.1.31.255 (10.1.32.1 is outside)', { srcAddr: ['10.1.16.0/20'] }, [3]],
    ['IPv4 single address', { dstAddr: ['10.0.1.5'] }, [2, 8]],
    ['IPv4 /0 is every IPv4 address', { addr: ['0.0.0.0/0'] }, [1, 2, 3, 4, 8, 9, 10]],
    ['IPv6 /48 either side', { addr: ['2600:1f18:abcd::/48'] }, [5, 6]],
    ['IPv6 single address written uncompressed', { srcAddr: ['2600:1F18:ABCD:0001:0000:0000:0000:0010'] }, [5]],
    ['IPv6 /32 with a short group (no text prefix)', { srcAddr: ['2001:db8::/32'] }, [6]],
    ['IPv6 ::/0', { addr: ['::/0'] }, [5, 6]],
    ['two blocks are ORed', { srcAddr: ['192.168.0.0/16', '172.16.0.0/12'] }, [8, 10]],
    ['notAddr keeps nulls (NODATA)', { notAddr: ['10.0.0.0/8'] }, [5, 6, 7]],
    ['notSrcAddr IPv6', { notSrcAddr: ['2600:1f18::/32'] }, [1, 2, 3, 4, 6, 7, 8, 9, 10]],
    ['dstPort single', { dstPort: [{ from: 22 }] }, [1, 10]],
    ['port either side', { port: [{ from: 22 }] }, [1, 2, 10]],
    ['dstPort range', { dstPort: [{ from: 400, to: 500 }] }, [4, 5, 9]],
    ['notPorts on either side keeps nulls', { notPorts: [{ from: 443 }] }, [1, 2, 3, 7, 8, 10]],
    ['protocols', { protocols: [17] }, [3]],
    ['notProtocols keeps nulls', { notProtocols: [6] }, [3, 7]],
    ['actions', { actions: ['REJECT'] }, [4, 8]],
    ['logStatuses', { logStatuses: ['NODATA'] }, [7]],
    ['tcpFlags all SYN+ACK', { tcpFlags: { all: ['SYN', 'ACK'] } }, [2, 6]],
    ['tcpFlags any FIN or RST', { tcpFlags: { any: ['FIN', 'RST'] } }, [4, 5, 6]],
    ['tcpFlags none SYN keeps records without flags', { tcpFlags: { none: ['SYN'] } }, [3, 4, 7]],
    ['minBytes: a single flow over 500 MB', { minBytes: '500000000' }, [9]],
    ['minBytes is inclusive; NODATA (no bytes) never passes', { minBytes: 5_000_000 }, [5, 9]],
    ['maxBytes keeps only records that have bytes', { maxBytes: '100' }, [1, 2, 3, 4, 6, 8, 10]],
    ['minPackets and maxPackets', { minPackets: 2, maxPackets: 40 }, [5]],
    ['maxDurationSeconds (end - start)', { maxDurationSeconds: 10 }, [3]],
    ['minDurationSeconds: NODATA records have times too', { minDurationSeconds: 30 }, [1, 2, 4, 5, 6, 7, 8, 9, 10]],
    ['AWS service and traffic path', { pktDstAwsServices: ['S3'], trafficPaths: [8] }, [9]],
    ['account', { accountIds: [B] }, [7, 8, 9]],
    ['region', { regions: ['eu-west-1'] }, [5, 6]],
    ['vpc', { vpcIds: ['vpc-0aaaaaaaaaaaaaaaa'] }, [10]],
    [
      'time window is half-open on start_time',
      { timeRange: { from: '2024-05-01T10:00:00Z', to: '2024-05-01T12:00:00Z' } },
      [1, 2, 3],
    ],
    ['second day only', { timeRange: { from: '2024-05-02', to: '2024-05-03' } }, [8, 9, 10]],
  ];
  for (const [title, input, expected] of cases) {
    it(title, async () => {
      expect(await matching(input)).toEqual(expected);
    });
  }

  it('ANDs the tenant scope in; an explicit account outside it is refused before SQL', async () => {
    expect(await matching({}, [B])).toEqual([7, 8, 9]);
    await expect(matching({ accountIds: [A] }, [B])).rejects.toThrow(
      `Forbidden: filter.accountIds[0] names account ${A}, which this API key may not read`,
    );
  });
});

describe('flowFilterSql text', () => {
  it('binds every value and names only fixed columns', () => {
    const f = validateFlowFilter({
      timeRange: WINDOW,
      srcAddr: ['10.1.16.0/20'],
      dstPort: [{ from: 22 }, { from: 1024, to: 2047 }],
      actions: ['ACCEPT'],
    });
    const q = build('t', flowFilterSql(f));
    expect(q.text).toBe(
      [
        'date BETWEEN CAST($1 AS DATE) AND CAST($2 AS DATE)',
        '  AND start_time >= $3 AND start_time < $4',
        "  AND ((starts_with(srcaddr, $5) AND TRY_CAST(split_part(srcaddr, '.', 3) AS INTEGER) BETWEEN $6 AND $7))",
        '  AND (dstport IN ($8) OR dstport BETWEEN $9 AND $10)',
        '  AND action IN ($11)',
      ].join('\n'),
    );
    expect(q.params).toEqual([
      '2024-05-01',
      '2024-05-02',
      new Date(WINDOW.from),
      new Date(WINDOW.to),
      '10.1.',
      16,
      31,
      22,
      1024,
      2047,
      'ACCEPT',
    ]);
  });

  it('reads, for every filter field, exactly the columns FILTER_FIELDS lists (so routing to flows_hourly is exact)', () => {
    const all = new Set<string>(Object.values(FILTER_FIELDS).flatMap((f) => [...f.columns]));
    for (const field of FILTER_FIELD_NAMES) {
      const checked = FILTER_FIELDS[field].validate(SAMPLE_INPUT[field], `filter.${field}`);
      expect(checked, field).not.toBeNull();
      // Names looked up in a reference table: bound to a snapshot, as validateFlowFilter does from the manifest.
      const value =
        checked && typeof checked === 'object' && 'names' in checked
          ? { ...checked, table: '/r.parquet' }
          : checked && typeof checked === 'object' && 'snapshots' in checked
            ? { ...checked, snapshots: ['/i.parquet', '/j.parquet'] }
            : checked;
      const text = build('t', recordConditionSql(field, value as never)).text;
      const read = [...all].filter((c) => new RegExp(`\\b${c}\\b`).test(text)).sort();
      expect(read, `${field}: ${text}`).toEqual([...FILTER_FIELDS[field].columns].sort());
    }
  });
});

describe('partition pruning', () => {
  it('prunes the manifest file list by account, region and date before DuckDB sees it', async () => {
    const { files } = await ctx.warehouse.manifest();
    expect(files).toHaveLength(5);
    const f = validateFlowFilter({ timeRange: { from: '2024-05-02', to: '2024-05-03' }, accountIds: [B] });
    expect(prunePartitions(files, f).map((p) => `${p.accountId}/${p.region}/${p.date}`)).toEqual([
      `${B}/us-east-1/2024-05-02`,
    ]);
    const scoped = validateFlowFilter({ timeRange: WINDOW, regions: ['us-east-1'] }, { scopeAccountIds: [A] });
    expect(
      prunePartitions(files, scoped)
        .map((p) => `${p.accountId}/${p.region}/${p.date}`)
        .sort(),
    ).toEqual([`${A}/us-east-1/2024-05-01`, `${A}/us-east-1/2024-05-02`]);
  });

  it('filters the hive columns in SQL so DuckDB prunes even an unpruned list (EXPLAIN ANALYZE)', async () => {
    const { files } = await ctx.warehouse.manifest();
    const all = files.map((f) => ctx.warehouse.absolutePath(f));
    const f = validateFlowFilter({ timeRange: WINDOW, regions: ['eu-west-1'] });
    const q = build(
      'test.explain',
      sql`EXPLAIN ANALYZE SELECT count(*) FROM ${parquetSourceSql(all)} WHERE ${flowFilterSql(f)}`,
    );
    const plan = (await runQuery(ctx, q)).map((r) => String(r.explain_value)).join('\n');
    expect(plan).toMatch(/Scanning Files: 1\/5/);
  });

  it('reads no file at all when nothing survives pruning', async () => {
    expect(await matching({ timeRange: { from: '2024-06-01', to: '2024-06-02' } })).toEqual([]);
  });
});
