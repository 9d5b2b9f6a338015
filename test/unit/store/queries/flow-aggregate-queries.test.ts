import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rm } from 'node:fs/promises';
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { buildFlowSummaryQuery } from '../../../../src/store/queries/flow-summary-query.ts';
import { buildFlowTopNQuery } from '../../../../src/store/queries/flow-top-n-query.ts';
import { buildFlowBreakdownQuery } from '../../../../src/store/queries/flow-breakdown-query.ts';
import { buildFlowTimeSeriesQuery } from '../../../../src/store/queries/flow-time-series-query.ts';
import { buildInterfaceStatusQuery } from '../../../../src/store/queries/partitions-query.ts';
import type { AggregateScope } from '../../../../src/store/queries/aggregate-expressions.ts';
import { raw, sql, type SqlQuery } from '../../../../src/store/sql.ts';
import { writeAggregateParquet } from '../../../helpers/aggregate-parquet.ts';
import {
  FIXTURE_BREAKDOWN_ACCOUNT_ACTION,
  FIXTURE_HOURLY,
  FIXTURE_HOURLY_BY_INTERFACE_TOP2,
  FIXTURE_INTERFACE_STATUS,
  FIXTURE_TOP_DST_PORTS_BY_RECORDS,
  FIXTURE_TOP_PAIRS_BY_BYTES,
  FIXTURE_TOTALS,
} from '../../../fixtures/aggregate-flows.ts';

const T = raw('t'); // a stand-in relation for the SQL text assertions

let dir = '';
let conn: DuckDBConnection;
let scope: AggregateScope;

beforeAll(async () => {
  const written = await writeAggregateParquet();
  dir = written.dir;
  conn = written.conn;
  scope = { source: written.source, where: raw('TRUE') };
});
afterAll(async () => {
  conn?.closeSync();
  await rm(dir, { recursive: true, force: true });
});

async function rows(q: SqlQuery): Promise<Record<string, unknown>[]> {
  const result = await conn.runAndReadAll(q.text, q.params as DuckDBValue[]);
  return result.getRowObjectsJS() as Record<string, unknown>[];
}
const iso = (v: unknown) => (v as Date).toISOString();

describe('flows.summary', () => {
  it('selects only the requested values, in a stable order, with the WHERE bound', () => {
    const q = buildFlowSummaryQuery({ source: T, where: sql`action = ${'REJECT'}` }, ['BYTES', 'RECORDS', 'BYTES']);
    expect(q.name).toBe('flows.summary');
    expect(q.text).toBe('SELECT count(*) AS m_records, coalesce(sum(bytes), 0) AS m_bytes FROM t WHERE action = $1');
    expect(q.params).toEqual(['REJECT']);
  });

  it('computes every metric over the fixture exactly', async () => {
    const [row] = await rows(
      buildFlowSummaryQuery(scope, [
        'RECORDS',
        'BYTES',
        'PACKETS',
        'ACCEPTED_RECORDS',
        'REJECTED_RECORDS',
        'NODATA_RECORDS',
        'SKIPDATA_RECORDS',
        'DISTINCT_SRC_ADDRS',
        'DISTINCT_DST_ADDRS',
        'DISTINCT_INTERFACES',
        'FIRST_SEEN',
        'LAST_SEEN',
      ]),
    );
    expect(row).toMatchObject({
      m_records: BigInt(FIXTURE_TOTALS.records),
      m_bytes: BigInt(FIXTURE_TOTALS.bytes),
      m_packets: BigInt(FIXTURE_TOTALS.packets),
      m_accepted_records: 6n,
      m_rejected_records: 3n,
      m_nodata_records: 1n,
      m_skipdata_records: 1n,
      m_distinct_src_addrs: 6n,
      m_distinct_dst_addrs: 3n,
      m_distinct_interfaces: 5n,
    });
    expect(FIXTURE_TOTALS.bytes).toBe(76532);
    expect(iso(row!.m_first_seen)).toBe(FIXTURE_TOTALS.firstSeen);
    expect(iso(row!.m_last_seen)).toBe(FIXTURE_TOTALS.lastSeen);
  });

  it('returns zero sums (not NULL) when nothing matches', async () => {
    const [row] = await rows(
      buildFlowSummaryQuery({ ...scope, where: sql`srcport = ${99}` }, ['RECORDS', 'BYTES', 'FIRST_SEEN']),
    );
    expect(row).toEqual({ m_records: 0n, m_bytes: 0n, m_first_seen: null });
  });
});

describe('flows.topN', () => {
  it('groups by both addresses for ADDRESS_PAIR, skips null keys, ranks with a key tie-break, asks for limit+1', () => {
    const q = buildFlowTopNQuery(
      { source: T, where: raw('TRUE') },
      { by: 'ADDRESS_PAIR', metric: 'BYTES', values: ['RECORDS'], limit: 3 },
    );
    expect(q.text).toBe(
      'SELECT srcaddr AS k_srcaddr, dstaddr AS k_dstaddr, count(*) AS m_records, coalesce(sum(bytes), 0) AS m_bytes' +
        ' FROM t WHERE (TRUE) AND srcaddr IS NOT NULL AND dstaddr IS NOT NULL GROUP BY k_srcaddr, k_dstaddr' +
        ' ORDER BY m_bytes DESC NULLS LAST, k_srcaddr ASC NULLS LAST, k_dstaddr ASC NULLS LAST LIMIT $1',
    );
    expect(q.params).toEqual([4]);
  });

  it('ranks address pairs by bytes', async () => {
    const got = await rows(
      buildFlowTopNQuery(scope, { by: 'ADDRESS_PAIR', metric: 'BYTES', values: ['RECORDS'], limit: 10 }),
    );
    expect(
      got.map((r) => ({ src: r.k_srcaddr, dst: r.k_dstaddr, bytes: Number(r.m_bytes), records: Number(r.m_records) })),
    ).toEqual(FIXTURE_TOP_PAIRS_BY_BYTES);
  });

  it('returns limit+1 rows when there are more, so the reader can flag truncation', async () => {
    const got = await rows(buildFlowTopNQuery(scope, { by: 'ADDRESS_PAIR', metric: 'BYTES', values: [], limit: 2 }));
    expect(got.map((r) => r.k_srcaddr)).toEqual(['10.1.0.1', '10.0.0.2', '10.0.0.1']);
  });

  it('ranks destination ports by records with ties in port order', async () => {
    const got = await rows(buildFlowTopNQuery(scope, { by: 'DST_PORT', metric: 'RECORDS', values: [], limit: 10 }));
    expect(got.map((r) => [r.k_dstport, Number(r.m_records)])).toEqual(FIXTURE_TOP_DST_PORTS_BY_RECORDS);
  });

  it('applies the scope WHERE with bound values', async () => {
    const where = sql`action = ${'REJECT'}`;
    const got = await rows(
      buildFlowTopNQuery({ ...scope, where }, { by: 'SRC_ADDR', metric: 'RECORDS', values: ['BYTES'], limit: 5 }),
    );
    expect(got.map((r) => [r.k_srcaddr, Number(r.m_records), Number(r.m_bytes)])).toEqual([
      ['203.0.113.9', 2, 80],
      ['10.2.0.1', 1, 300],
    ]);
  });
});

describe('flows.breakdown', () => {
  it('groups by several dimensions and keeps null keys as groups', async () => {
    const q = buildFlowBreakdownQuery(scope, {
      dimensions: ['ACCOUNT', 'ACTION'],
      values: ['BYTES'],
      orderBy: 'RECORDS',
      limit: 100,
    });
    expect(q.name).toBe('flows.breakdown');
    const got = await rows(q);
    expect(got.map((r) => [r.k_account_id, r.k_action, Number(r.m_records), Number(r.m_bytes)])).toEqual(
      FIXTURE_BREAKDOWN_ACCOUNT_ACTION,
    );
  });

  it('groups by a named dimension: the packet address looked up in the snapshot, its path bound', () => {
    const named: AggregateScope = {
      source: T,
      where: raw('TRUE'),
      names: { ipRanges: '/w/ip.parquet', networks: '/w/net.parquet' },
    };
    const q = buildFlowBreakdownQuery(named, {
      dimensions: ['SRC_NETWORK', 'DST_AWS_SERVICE'],
      values: [],
      orderBy: 'BYTES',
      limit: 5,
    });
    expect(q.text).toContain('(SELECT first(r.name ORDER BY r.prefix_len DESC, r.name) FROM read_parquet($1) r');
    expect(q.text).toContain("contains(coalesce(pkt_srcaddr, srcaddr), ':')");
    expect(q.text).toContain(') AS k_src_network, coalesce(pkt_dst_aws_service, (SELECT first(r.service ORDER BY');
    expect(q.text).toContain(') AS k_dst_aws_service');
    expect(q.text).toMatch(/GROUP BY k_src_network, k_dst_aws_service ORDER BY m_bytes DESC NULLS LAST/);
    expect(q.params).toEqual(['/w/net.parquet', '/w/ip.parquet', 6]);
    // Without a snapshot of the kind: no network (NULL), the records' own service.
    const bare = buildFlowBreakdownQuery(
      { source: T, where: raw('TRUE'), names: { ipRanges: null, networks: null } },
      { dimensions: ['SRC_NETWORK', 'DST_AWS_SERVICE'], values: [], orderBy: 'BYTES', limit: 5 },
    );
    expect(bare.text).toBe(
      'SELECT NULL::VARCHAR AS k_src_network, pkt_dst_aws_service AS k_dst_aws_service, coalesce(sum(bytes), 0) AS m_bytes ' +
        'FROM t WHERE (TRUE) GROUP BY k_src_network, k_dst_aws_service ORDER BY m_bytes DESC NULLS LAST, ' +
        'k_src_network ASC NULLS LAST, k_dst_aws_service ASC NULLS LAST LIMIT $1',
    );
    // A scope built without the snapshots is a caller's bug, not "no names".
    expect(() =>
      buildFlowBreakdownQuery(scope, { dimensions: ['DST_NETWORK'], values: [], orderBy: 'BYTES', limit: 5 }),
    ).toThrow('aggregate grouped by DST_NETWORK without its reference snapshots');
  });

  it('keeps a leading-zero account id as text and a partition date as a date', async () => {
    const got = await rows(
      buildFlowBreakdownQuery(scope, { dimensions: ['DATE', 'ACCOUNT'], values: [], orderBy: 'RECORDS', limit: 100 }),
    );
    const keys = got.map((r) => `${String(r.k_date)}|${String(r.k_account_id)}`).sort();
    expect(keys).toEqual(['2024-03-01|012345678901', '2024-03-01|111111111111', '2024-03-02|222222222222']);
  });
});

describe('flows.timeSeries', () => {
  it('buckets by start time without grouping', async () => {
    const q = buildFlowTimeSeriesQuery(scope, { interval: 'HOUR', values: ['RECORDS', 'BYTES'] });
    expect(q.text).toContain("time_bucket(INTERVAL '3600 seconds', start_time) AS bucket");
    const got = await rows(q);
    expect(got.map((r) => [iso(r.bucket), Number(r.m_records), Number(r.m_bytes)])).toEqual(FIXTURE_HOURLY);
  });

  it('keeps the largest series by an additive metric, bound as a parameter', async () => {
    const q = buildFlowTimeSeriesQuery(scope, {
      interval: 'HOUR',
      values: ['RECORDS'],
      groupBy: { dimension: 'INTERFACE', maxSeries: 2, rankBy: 'BYTES' },
    });
    expect(q.params).toEqual([2]);
    expect(q.text).toContain('SEMI JOIN top ON g.k_interface_id IS NOT DISTINCT FROM top.k_interface_id');
    const got = await rows(q);
    expect(got.map((r) => [r.k_interface_id, iso(r.bucket), Number(r.m_records), Number(r.m_bytes)])).toEqual(
      FIXTURE_HOURLY_BY_INTERFACE_TOP2,
    );
  });

  it('refuses to rank series by a metric that does not add up across buckets', () => {
    expect(() =>
      buildFlowTimeSeriesQuery(scope, {
        interval: 'DAY',
        values: [],
        groupBy: { dimension: 'VPC', maxSeries: 3, rankBy: 'DISTINCT_SRC_ADDRS' },
      }),
    ).toThrow('flows.timeSeries: cannot rank series by DISTINCT_SRC_ADDRS');
  });

  it('aligns day buckets to UTC midnight', async () => {
    const got = await rows(buildFlowTimeSeriesQuery(scope, { interval: 'DAY', values: ['RECORDS'] }));
    expect(got.map((r) => [iso(r.bucket), Number(r.m_records)])).toEqual([
      ['2024-03-01T00:00:00.000Z', 9],
      ['2024-03-02T00:00:00.000Z', 2],
    ]);
  });
});

describe('flows.interfaceStatus', () => {
  it('lists interfaces with SKIPDATA, then NODATA first', async () => {
    const got = await rows(buildInterfaceStatusQuery(scope, 10));
    expect(
      got.map((r) => [
        r.account_id,
        r.interface_id,
        Number(r.records),
        Number(r.ok_records),
        Number(r.nodata_records),
        Number(r.skipdata_records),
      ]),
    ).toEqual(FIXTURE_INTERFACE_STATUS);
  });
});
