// The metrics of issue 11.3 (averages, extremes, destination ports, peak and p95 rates) and `having`, over the
// aggregate fixture (test/fixtures/aggregate-flows.ts) written as Parquet: each against its number by hand and
// against hand-written DuckDB SQL over the same files (zero-filled buckets, quantile_disc: DuckDB's nearest rank).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rm } from 'node:fs/promises';
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { rateBucketCount } from '../../../../src/domain/aggregate-enums.ts';
import type { FlowValue } from '../../../../src/domain/aggregate-enums.ts';
import { checkMetricBounds } from '../../../../src/domain/metric-bound.ts';
import type { AggregateScope } from '../../../../src/store/queries/aggregate-expressions.ts';
import { p95RankFromTop } from '../../../../src/store/queries/aggregate-values-query.ts';
import { buildFlowBreakdownQuery } from '../../../../src/store/queries/flow-breakdown-query.ts';
import { buildFlowSummaryQuery } from '../../../../src/store/queries/flow-summary-query.ts';
import { buildFlowTopNQuery } from '../../../../src/store/queries/flow-top-n-query.ts';
import { raw, type SqlQuery } from '../../../../src/store/sql.ts';
import { writeAggregateParquet } from '../../../helpers/aggregate-parquet.ts';

let dir = '';
let conn: DuckDBConnection;
let scope: AggregateScope;
let source = '';

beforeAll(async () => {
  const written = await writeAggregateParquet();
  dir = written.dir;
  conn = written.conn;
  scope = { source: written.source, where: raw('TRUE') };
  source = written.source.strings[0]!;
});
afterAll(async () => {
  conn?.closeSync();
  await rm(dir, { recursive: true, force: true });
});

async function rows(q: SqlQuery): Promise<Record<string, unknown>[]> {
  return (await conn.runAndReadAll(q.text, q.params as DuckDBValue[])).getRowObjectsJS() as Record<string, unknown>[];
}
async function handRows(text: string): Promise<Record<string, unknown>[]> {
  return (await conn.runAndReadAll(text)).getRowObjectsJS() as Record<string, unknown>[];
}
const inWindow = (from: string, to: string): AggregateScope => ({
  ...scope,
  // Times as literals: this bare connection binds without the query runner's types.
  where: raw(`start_time >= TIMESTAMP '${from.slice(0, -1)}' AND start_time < TIMESTAMP '${to.slice(0, -1)}'`),
});

/** Peak and p95 (nearest rank) bits/s of one window by hand-written SQL: every bucket, zero-filled, quantile_disc. */
function handRatesSql(from: string, to: string, seconds: number, where = 'TRUE'): string {
  return `WITH buckets AS (
      SELECT unnest(generate_series(time_bucket(INTERVAL '${seconds} seconds', TIMESTAMP '${from}'),
        TIMESTAMP '${to}' - INTERVAL '1 microsecond', INTERVAL '${seconds} seconds')) AS bucket),
    traffic AS (SELECT time_bucket(INTERVAL '${seconds} seconds', start_time) AS bucket, sum(bytes) AS bytes, sum(packets) AS packets
      FROM ${source} WHERE start_time >= TIMESTAMP '${from}' AND start_time < TIMESTAMP '${to}' AND ${where} GROUP BY 1),
    rates AS (SELECT coalesce(t.bytes, 0) * 8 / ${seconds} AS bps, coalesce(t.packets, 0) / ${seconds} AS pps
      FROM buckets b LEFT JOIN traffic t USING (bucket))
    SELECT count(*) AS n, max(bps) AS peak_bps, quantile_disc(bps, 0.95) AS p95_bps,
      max(pps) AS peak_pps, quantile_disc(pps, 0.95) AS p95_pps FROM rates`;
}

const RATES = [
  'PEAK_BITS_PER_SECOND',
  'P95_BITS_PER_SECOND',
  'PEAK_PACKETS_PER_SECOND',
  'P95_PACKETS_PER_SECOND',
] as const;

describe('per-record metrics', () => {
  it('averages over the records carrying a count, extremes of one record, distinct destination ports', async () => {
    const [row] = await rows(
      buildFlowSummaryQuery(scope, [
        'AVG_BYTES',
        'MIN_BYTES',
        'MAX_BYTES',
        'AVG_PACKETS',
        'MIN_PACKETS',
        'MAX_PACKETS',
        'DISTINCT_DST_PORTS',
      ]),
    );
    // Nine records carry bytes (NODATA #7 and SKIPDATA #10 do not): 76532 / 9, not / 11.
    expect(row).toEqual({
      m_distinct_dst_ports: 6n, // 443 40000 22 23 123 5432
      m_avg_bytes: 76532 / 9,
      m_min_bytes: 40n, // #5, #6
      m_max_bytes: 64000n, // #9
      m_avg_packets: 167 / 9,
      m_min_packets: 1n,
      m_max_packets: 100n,
    });
    const [hand] = await handRows(
      `SELECT avg(bytes) a, min(bytes) mi, max(bytes) ma, avg(packets) ap, count(DISTINCT dstport) d FROM ${source}`,
    );
    expect([
      row!.m_avg_bytes,
      row!.m_min_bytes,
      row!.m_max_bytes,
      row!.m_avg_packets,
      row!.m_distinct_dst_ports,
    ]).toEqual([hand!.a, hand!.mi, hand!.ma, hand!.ap, hand!.d]);
  });

  it('is null, not 0, over records without counts (a NODATA-only group); such a group ranks last', async () => {
    const got = await rows(
      buildFlowBreakdownQuery(scope, { dimensions: ['LOG_STATUS'], orderBy: 'MIN_BYTES', values: [], limit: 10 }),
    );
    expect(got).toEqual([
      { k_log_status: 'OK', m_min_bytes: 40n },
      { k_log_status: 'NODATA', m_min_bytes: null },
      { k_log_status: 'SKIPDATA', m_min_bytes: null },
    ]);
  });

  it('ranks fan-out: sources by distinct destination ports', async () => {
    const got = await rows(
      buildFlowTopNQuery(scope, { by: 'SRC_ADDR', metric: 'DISTINCT_DST_PORTS', values: [], limit: 2 }),
    );
    // 203.0.113.9 reached 22 and 23; every other source one port (ties by address).
    expect(got.map((r) => [r.k_srcaddr, r.m_distinct_dst_ports])).toEqual([
      ['203.0.113.9', 2n],
      ['10.0.0.1', 1n],
      ['10.0.0.2', 1n],
    ]);
  });
});

describe('peak and p95 rates over every bucket of the window', () => {
  it('counts the epoch-aligned buckets overlapping the window, and ranks p95 by nearest rank', () => {
    const day = { from: new Date('2024-03-01T00:00:00Z'), to: new Date('2024-03-02T00:00:00Z') };
    expect(rateBucketCount(day, 'FIVE_MINUTES')).toBe(288);
    expect(rateBucketCount({ from: new Date('2024-03-01T00:01:00Z'), to: day.to }, 'FIVE_MINUTES')).toBe(288);
    expect(rateBucketCount({ from: day.from, to: new Date('2024-03-01T00:05:00.001Z') }, 'FIVE_MINUTES')).toBe(2);
    // ceil(0.95 N) ascending is the (N - ceil(0.95 N) + 1)-th from the top.
    expect([1, 2, 19, 20, 21, 100, 288].map(p95RankFromTop)).toEqual([1, 1, 1, 2, 2, 6, 15]);
  });

  it('20 five-minute buckets, 4 with traffic: peak is the largest, p95 the second largest (rank 19 of 20)', async () => {
    const [from, to] = ['2024-03-01T10:00:00Z', '2024-03-01T11:40:00Z'];
    const rate = { interval: 'FIVE_MINUTES' as const, buckets: 20 };
    const [row] = await rows(buildFlowSummaryQuery(inWindow(from, to), [...RATES, 'BYTES'], rate));
    // Buckets with traffic: 10:00 12000 B / 40 packets (#1-4, NODATA #7), 10:05 40 B (#5), 11:05 152 B (#8), 11:30 40 B (#6).
    expect(row).toEqual({
      m_bytes: 12232n,
      m_peak_bits_per_second: (12000 * 8) / 300,
      m_p95_bits_per_second: (152 * 8) / 300,
      m_peak_packets_per_second: 60 / 300,
      m_p95_packets_per_second: 2 / 300,
    });
    const [hand] = await handRows(handRatesSql('2024-03-01 10:00:00', '2024-03-01 11:40:00', 300));
    expect(hand).toMatchObject({ n: 20n });
    expect([hand!.peak_bps, hand!.p95_bps, hand!.peak_pps, hand!.p95_pps]).toEqual([
      row!.m_peak_bits_per_second,
      row!.m_p95_bits_per_second,
      row!.m_peak_packets_per_second,
      row!.m_p95_packets_per_second,
    ]);
  });

  it('is 0 at p95 when buckets without traffic are over 5% (two days: 6 of 576 buckets carry bytes)', async () => {
    const [from, to] = ['2024-03-01T00:00:00Z', '2024-03-03T00:00:00Z'];
    const buckets = rateBucketCount({ from: new Date(from), to: new Date(to) }, 'FIVE_MINUTES');
    expect(buckets).toBe(576);
    const [row] = await rows(
      buildFlowSummaryQuery(inWindow(from, to), [...RATES], { interval: 'FIVE_MINUTES', buckets }),
    );
    expect(row).toEqual({
      m_peak_bits_per_second: (64000 * 8) / 300, // #9 alone in 00:00 on day 2
      m_p95_bits_per_second: 0,
      m_peak_packets_per_second: 100 / 300,
      m_p95_packets_per_second: 0,
    });
    const [hand] = await handRows(handRatesSql('2024-03-01 00:00:00', '2024-03-03 00:00:00', 300));
    expect([hand!.n, hand!.peak_bps, hand!.p95_bps]).toEqual([576n, row!.m_peak_bits_per_second, 0]);
  });

  it('is 0 (not null) over a window without records', async () => {
    const [row] = await rows(
      buildFlowSummaryQuery(inWindow('2024-04-01T00:00:00Z', '2024-04-01T01:00:00Z'), ['RECORDS', ...RATES], {
        interval: 'FIVE_MINUTES',
        buckets: 12,
      }),
    );
    expect(row).toEqual({
      m_records: 0n,
      m_peak_bits_per_second: 0,
      m_p95_bits_per_second: 0,
      m_peak_packets_per_second: 0,
      m_p95_packets_per_second: 0,
    });
  });

  it('per group: each interface over the same 20 buckets, ranked by its peak, against hand-written SQL', async () => {
    const [from, to] = ['2024-03-01T10:00:00Z', '2024-03-01T11:40:00Z'];
    const got = await rows(
      buildFlowTopNQuery(inWindow(from, to), {
        by: 'INTERFACE',
        metric: 'PEAK_BITS_PER_SECOND',
        values: ['P95_BITS_PER_SECOND', 'BYTES'],
        limit: 10,
        rate: { interval: 'FIVE_MINUTES', buckets: 20 },
      }),
    );
    const expected = [];
    for (const iface of ['eni-0000000a', 'eni-0000000b', 'eni-0000000c']) {
      const [hand] = await handRows(
        handRatesSql('2024-03-01 10:00:00', '2024-03-01 11:40:00', 300, `interface_id = '${iface}'`),
      );
      expected.push({ k_interface_id: iface, peak: hand!.peak_bps, p95: hand!.p95_bps });
    }
    expected.sort((a, b) => (b.peak as number) - (a.peak as number));
    expect(
      got.map((r) => ({
        k_interface_id: r.k_interface_id,
        peak: r.m_peak_bits_per_second,
        p95: r.m_p95_bits_per_second,
      })),
    ).toEqual(expected);
    // eni-0000000b: 10:00 6000 B (#2, #3), 10:05 40 B (#5), 11:30 40 B (#6): p95 (2nd largest) is 40 B over 300 s.
    expect(got.find((r) => r.k_interface_id === 'eni-0000000b')).toMatchObject({
      m_peak_bits_per_second: (6000 * 8) / 300,
      m_p95_bits_per_second: (40 * 8) / 300,
      m_bytes: 6080n,
    });
  });
});

describe('rates beside plain values: one scan of the records', () => {
  // Every plain value that combines across rate buckets; a distinct count does not, and keeps the two-scan form.
  const PLAIN = [
    'RECORDS',
    'BYTES',
    'PACKETS',
    'ACCEPTED_RECORDS',
    'REJECTED_RECORDS',
    'NODATA_RECORDS',
    'SKIPDATA_RECORDS',
    'AVG_BYTES',
    'MIN_BYTES',
    'MAX_BYTES',
    'AVG_PACKETS',
    'MIN_PACKETS',
    'MAX_PACKETS',
    'FIRST_SEEN',
    'LAST_SEEN',
  ] as const;
  const rate = { interval: 'FIVE_MINUTES' as const, buckets: 576 };
  const without = (row: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(row).filter(([k]) => k !== 'm_distinct_dst_ports'));

  it('reads the records once, and gives per group what the two-scan form gives (same values, same types)', async () => {
    const [from, to] = ['2024-03-01T00:00:00Z', '2024-03-03T00:00:00Z'];
    const request = (values: readonly FlowValue[]) => ({
      dimensions: ['INTERFACE', 'ACTION'] as const,
      orderBy: 'P95_BITS_PER_SECOND' as const,
      values: [...values, 'PEAK_PACKETS_PER_SECOND' as const],
      limit: 50,
      rate,
    });
    const one = buildFlowBreakdownQuery(inWindow(from, to), request(PLAIN));
    expect(one.text.split(source).length - 1).toBe(1);
    const two = buildFlowBreakdownQuery(inWindow(from, to), request([...PLAIN, 'DISTINCT_DST_PORTS']));
    expect(two.text.split(source).length - 1).toBe(2);
    const [a, b] = [await rows(one), await rows(two)];
    expect(a.length).toBeGreaterThan(3);
    expect(a).toEqual(b.map(without));
  });

  it('ungrouped: a summary with rates, over data and over an empty window (counts 0, extremes null)', async () => {
    for (const [from, to] of [
      ['2024-03-01T00:00:00Z', '2024-03-03T00:00:00Z'],
      ['2024-04-01T00:00:00Z', '2024-04-01T01:00:00Z'],
    ] as const) {
      const [a] = await rows(buildFlowSummaryQuery(inWindow(from, to), [...PLAIN, 'P95_BITS_PER_SECOND'], rate));
      const [b] = await rows(
        buildFlowSummaryQuery(inWindow(from, to), [...PLAIN, 'DISTINCT_DST_PORTS', 'P95_BITS_PER_SECOND'], rate),
      );
      expect(a).toEqual(without(b!));
    }
  });
});

describe('having', () => {
  it('binds the bounds and keeps groups within them, both ends inclusive', async () => {
    const having = checkMetricBounds('having', [{ metric: 'BYTES', min: 300, max: 10000 }]);
    const q = buildFlowTopNQuery(scope, {
      by: 'ADDRESS_PAIR',
      metric: 'BYTES',
      values: ['RECORDS'],
      limit: 10,
      having,
    });
    expect(q.text).toContain('AS grouped WHERE m_bytes >= $1 AND m_bytes <= $2 ORDER BY');
    expect(q.params).toEqual([300, 10000, 11]);
    expect((await rows(q)).map((r) => [r.k_srcaddr, r.k_dstaddr, r.m_bytes])).toEqual([
      ['10.0.0.2', '10.0.0.1', 10000n],
      ['10.0.0.1', '10.0.0.2', 2000n],
      ['10.2.0.1', '10.0.0.2', 300n],
    ]);
  });

  it('bounds a metric it does not rank by, and a Float metric, as hand-written HAVING does', async () => {
    const having = checkMetricBounds('having', [
      { metric: 'RECORDS', min: 2 },
      { metric: 'AVG_BYTES', max: 2500.5 },
    ]);
    const got = await rows(
      buildFlowBreakdownQuery(scope, { dimensions: ['INTERFACE'], orderBy: 'BYTES', values: [], limit: 10, having }),
    );
    const hand = await handRows(
      `SELECT interface_id, sum(bytes) AS bytes FROM ${source} GROUP BY interface_id
       HAVING count(*) >= 2 AND avg(bytes) <= 2500.5 ORDER BY bytes DESC, interface_id`,
    );
    // eni-0000000a: 3 records, 6000 B over 2 with bytes = 3000 (out); eni-0000000b: 4 records, 6080 / 4 = 1520 (in);
    // eni-0000000d: 2 records, 64000 / 1 (out).
    expect(hand).toEqual([{ interface_id: 'eni-0000000b', bytes: 6080n }]);
    expect(got.map((r) => [r.k_interface_id, r.m_bytes])).toEqual(hand.map((r) => [r.interface_id, r.bytes]));
    expect(got[0]).toMatchObject({ m_records: 4n, m_avg_bytes: 1520 });
  });

  it('bounds a rate metric per group', async () => {
    const [from, to] = ['2024-03-01T10:00:00Z', '2024-03-01T11:40:00Z'];
    const having = checkMetricBounds('having', [{ metric: 'P95_BITS_PER_SECOND', min: 1 }]);
    const got = await rows(
      buildFlowTopNQuery(inWindow(from, to), {
        by: 'INTERFACE',
        metric: 'BYTES',
        values: [],
        limit: 10,
        having,
        rate: { interval: 'FIVE_MINUTES', buckets: 20 },
      }),
    );
    // Only eni-0000000b has a second bucket with traffic (p95 40 B x 8 / 300 s = 1.07 bit/s); the others' p95 is 0.
    expect(got.map((r) => r.k_interface_id)).toEqual(['eni-0000000b']);
  });
});
