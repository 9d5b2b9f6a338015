/**
 * Connection-analytics cases for `npm run bench:api` (bench/api-bench.ts imports this list): each case is the query
 * the API runs over the derived tables next to a hand-written SQL baseline over the raw flows partitions of the same
 * day, so the bench prints both figures and their ratio. Targets (issue 5): at 10M records a one-day handshakes page
 * or edges top-100 in <= 300 ms.
 */
import { connectionRelationSql } from '../src/analytics/connection-filter-query.ts';
import { edgeDiffQuery } from '../src/analytics/edge-diff-query.ts';
import { edgeQuery } from '../src/analytics/edge-query.ts';
import { derivedScanSql } from '../src/analytics/flow-source.ts';
import { handshakePageQuery } from '../src/analytics/handshake-query.ts';
import type { FlowFilter } from '../src/domain/flow-filter.ts';
import { parquetSourceSql } from '../src/store/queries/parquet-source-query.ts';
import { build, raw, sql, type SqlQuery } from '../src/store/sql.ts';

/** Files of one day, by table, as absolute paths. */
export interface AnalyticsBenchFiles {
  readonly flows: readonly string[];
  readonly handshakes: readonly string[];
  readonly edges: readonly string[];
}

/** One case: the API's statement and the baseline it is compared with. */
export interface AnalyticsBenchCase {
  readonly name: string;
  readonly query: SqlQuery;
  readonly baseline: SqlQuery;
}

const NONE = raw('(SELECT NULL AS none WHERE FALSE)');

/** The cases for `filter` (one day) over `files`. */
export function analyticsBenchCases(files: AnalyticsBenchFiles, filter: FlowFilter): AnalyticsBenchCase[] {
  const flows = parquetSourceSql(files.flows);
  const { from, to } = filter.timeRange;
  const handshakes = connectionRelationSql(derivedScanSql(files.handshakes, NONE), filter, 'handshakes');
  const edges = connectionRelationSql(derivedScanSql(files.edges, NONE), filter, 'edges');
  const mid = new Date((from.getTime() + to.getTime()) / 2);
  const half = (i: 0 | 1) =>
    connectionRelationSql(
      derivedScanSql(files.edges, NONE),
      { ...filter, timeRange: i === 0 ? { from, to: mid } : { from: mid, to } },
      'edges',
    );
  return [
    {
      name: 'handshakes page (first 100)',
      query: handshakePageQuery({ rows: handshakes, states: null, first: 100, after: null }),
      // Baseline: the SYN records of the day, first 100 by time (what a naive client would list).
      baseline: build(
        'bench.handshakes.baseline',
        sql`SELECT srcaddr, srcport, dstaddr, dstport, start_time FROM ${flows}
WHERE start_time >= ${from} AND start_time < ${to} AND protocol = 6 AND (tcp_flags & 2) <> 0 AND (tcp_flags & 16) = 0
ORDER BY start_time, srcaddr, srcport LIMIT 101`,
      ),
    },
    {
      name: 'edges top-100 (INSTANCE, by bytes)',
      query: edgeQuery({ rows: edges, level: 'INSTANCE', orderBy: 'BYTES', limit: 100, offset: 0 }),
      // Baseline: the naive instance-pair byte sum over raw records (double counts, no direction, no NAT handling).
      baseline: build(
        'bench.edges.baseline',
        sql`SELECT instance_id, dstaddr, dstport, sum(bytes) AS b FROM ${flows}
WHERE start_time >= ${from} AND start_time < ${to}
GROUP BY ALL ORDER BY b DESC LIMIT 101`,
      ),
    },
    {
      name: 'edge graph (SUBNET, 200 edges; nodes shaped in JS by edgeGraphFromRows)',
      query: edgeQuery({ rows: edges, level: 'SUBNET', orderBy: 'BYTES', limit: 200, offset: 0 }),
      baseline: build(
        'bench.graph.baseline',
        sql`SELECT subnet_id, dstaddr, sum(bytes) AS b FROM ${flows}
WHERE start_time >= ${from} AND start_time < ${to} GROUP BY ALL ORDER BY b DESC LIMIT 201`,
      ),
    },
    {
      name: 'edge diff (INSTANCE, first half vs second half of the day)',
      query: edgeDiffQuery({ before: half(0), after: half(1), level: 'INSTANCE', minFactor: 2, limit: 100 }),
      baseline: build(
        'bench.diff.baseline',
        sql`SELECT instance_id, dstaddr, dstport,
       sum(bytes) FILTER (start_time < ${from} + INTERVAL 12 HOUR) AS before,
       sum(bytes) FILTER (start_time >= ${from} + INTERVAL 12 HOUR) AS after
FROM ${flows} WHERE start_time >= ${from} AND start_time < ${to} GROUP BY ALL ORDER BY after DESC NULLS LAST LIMIT 101`,
      ),
    },
  ];
}
