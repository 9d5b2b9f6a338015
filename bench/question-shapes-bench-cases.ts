/**
 * The question shapes of issue 11 for `npm run bench:api` (bench/api-bench.ts imports this list): record thresholds,
 * per-record averages and extremes, fan-out, peak and p95 rates, HAVING, scans on logs without tcp-flags, cost by
 * sender, and the inventory's TAG level and tag filter (issue 13). Each is a GraphQL query over one day next to the
 * hand-written DuckDB SQL a user would write for the same answer over the warehouse's tables by glob (the connection shapes over the derived handshakes and edges, as flowql
 * reads them). Target: ratio <= 1.2.
 */
import type { DuckDBValue } from '@duckdb/node-api';
import type { ExampleContext } from '../src/graphql/graphiql-tabs.ts';

/** One shape: its GraphQL query for a day, and the statements of its baseline (run concurrently). */
export interface QuestionShapeCase {
  readonly name: string;
  readonly query: (c: ExampleContext) => string;
  readonly baseline: (c: ExampleContext, tables: BenchTables) => { text: string; params: DuckDBValue[] }[];
}

/** Relations over the warehouse's tables, read by glob as a user scripting DuckDB by hand would. */
export interface BenchTables {
  readonly flows: string;
  readonly handshakes: string;
  readonly edges: string;
  /** The inventory snapshot the generator's estate was imported as (one, so no as-of spans by hand). */
  readonly inventory: string;
  /** The live ip-ranges snapshot (AWS's published ranges), or null when the warehouse has none. */
  readonly ipRanges: string | null;
}

const window = (c: ExampleContext) => `timeRange: { from: "${c.from}", to: "${c.to}" }`;
const day = `date = CAST($1 AS TIMESTAMP)::DATE AND start_time >= CAST($1 AS TIMESTAMP) AND start_time < CAST($2 AS TIMESTAMP)`;
const w = (c: ExampleContext): DuckDBValue[] => [c.from.slice(0, 19), c.to.slice(0, 19)];

/** A byte count that about one record in a hundred reaches on the generator's data. */
const LARGE = 100_000;

export const QUESTION_SHAPE_CASES: readonly QuestionShapeCase[] = [
  {
    name: 'threshold: flows of >= 100 kB, first 100',
    query: (c) =>
      `{ flows(filter: { ${window(c)}, minBytes: "${LARGE}" }, first: 100) { nodes { start srcAddr dstAddr dstPort bytes } } }`,
    baseline: (c, { flows }) => [
      {
        text: `SELECT start_time, srcaddr, dstaddr, dstport, bytes FROM ${flows} WHERE ${day} AND bytes >= ${LARGE} ORDER BY start_time, flow_id LIMIT 101`,
        params: w(c),
      },
    ],
  },
  {
    name: 'per record: avg/min/max bytes, avg packets',
    query: (c) => `{ flowSummary(filter: { ${window(c)} }) { avgBytes minBytes maxBytes avgPackets } }`,
    baseline: (c, { flows }) => [
      { text: `SELECT avg(bytes), min(bytes), max(bytes), avg(packets) FROM ${flows} WHERE ${day}`, params: w(c) },
    ],
  },
  {
    name: 'fan-out: top 10 sources by distinct dst ports',
    query: (c) =>
      `{ flowTopN(filter: { ${window(c)} }, by: SRC_ADDR, metric: DISTINCT_DST_PORTS, limit: 10) { rows { label distinctDstPorts } } }`,
    baseline: (c, { flows }) => [
      {
        text: `SELECT srcaddr, count(DISTINCT dstport) AS n FROM ${flows} WHERE ${day} AND srcaddr IS NOT NULL GROUP BY ALL ORDER BY n DESC, srcaddr LIMIT 11`,
        params: w(c),
      },
    ],
  },
  {
    name: 'rates: top 10 instances by p95 bits/s (5 min)',
    query: (c) =>
      `{ flowTopN(filter: { ${window(c)} }, by: INSTANCE, metric: P95_BITS_PER_SECOND, limit: 10) { rows { label p95BitsPerSecond peakBitsPerSecond } } }`,
    // Every 5-minute bucket of the day per instance, empty ones as 0, then the nearest-rank 95th percentile.
    baseline: (c, { flows }) => [
      {
        text: `WITH b AS (SELECT instance_id, time_bucket(INTERVAL 5 MINUTE, start_time) AS t, sum(bytes) * 8 / 300.0 AS r
                      FROM ${flows} WHERE ${day} AND instance_id IS NOT NULL GROUP BY ALL),
                   grid AS (SELECT i.instance_id, g.t, coalesce(b.r, 0) AS r
                            FROM (SELECT DISTINCT instance_id FROM b) i
                            CROSS JOIN generate_series(CAST($1 AS TIMESTAMP), CAST($2 AS TIMESTAMP) - INTERVAL 5 MINUTE, INTERVAL 5 MINUTE) g(t)
                            LEFT JOIN b ON b.instance_id = i.instance_id AND b.t = g.t)
              SELECT instance_id, quantile_disc(r, 0.95) AS p95, max(r) FROM grid GROUP BY ALL ORDER BY p95 DESC, instance_id LIMIT 11`,
        params: w(c),
      },
    ],
  },
  {
    name: 'having: (src, dst port) groups of >= 10 MB',
    query: (c) =>
      `{ flowBreakdown(filter: { ${window(c)} }, dimensions: [SRC_ADDR, DST_PORT], having: [{ metric: BYTES, min: 10000000 }], limit: 100) { truncated rows { label bytes records } } }`,
    baseline: (c, { flows }) => [
      {
        text: `SELECT srcaddr, dstport, sum(bytes) AS b, count(*) FROM ${flows} WHERE ${day} GROUP BY ALL HAVING sum(bytes) >= 10000000 ORDER BY b DESC LIMIT 101`,
        params: w(c),
      },
    ],
  },
  {
    name: 'scans (handshakes, and rejected records without tcp-flags)',
    query: (c) => `{ scans(filter: { ${window(c)} }) { nodes { sourceAddr evidence failedPorts failedHosts } } }`,
    // The same rule by hand: failed handshakes per client (derived table), else rejected TCP records without
    // tcp-flags per source, replies (source port below the destination port) left out; 10 ports or 10 hosts.
    baseline: (c, { flows, handshakes }) => [
      {
        text: `WITH hs AS (SELECT client_addr AS src, count(DISTINCT server_port) AS p, count(DISTINCT server_addr) AS h
                          FROM ${handshakes} WHERE start_time >= CAST($1 AS TIMESTAMP) AND start_time < CAST($2 AS TIMESTAMP)
                            AND state <> 'ESTABLISHED' GROUP BY ALL HAVING p >= 10 OR h >= 10),
                    rr AS (SELECT srcaddr AS src, count(DISTINCT dstport) AS p, count(DISTINCT dstaddr) AS h FROM ${flows}
                          WHERE ${day} AND action = 'REJECT' AND protocol = 6 AND tcp_flags IS NULL AND srcport >= dstport
                          GROUP BY ALL HAVING p >= 10 OR h >= 10)
               SELECT * FROM hs UNION ALL SELECT * FROM rr WHERE src NOT IN (SELECT src FROM hs) ORDER BY p DESC LIMIT 101`,
        params: w(c),
      },
    ],
  },
  {
    name: 'cost: top 20 senders by cross-AZ bytes',
    query: (c) =>
      `{ trafficCost(filter: { ${window(c)} }, groupBy: SENDER, orderBy: CROSS_AZ_BYTES, limit: 20) { groups { rows { sender { id } bytes crossAzBytes natBytes internetBytes } } } }`,
    // The same attribution by hand over the derived edge rows: each direction's bytes, packets and cost lens on the
    // end that sent it (internet bytes split by the rule of cost-query.ts), the sender's AZ and subnet when unique.
    baseline: (c, { edges }) => [
      {
        text: `WITH e AS (SELECT *, CASE WHEN client_kind IN ('EXTERNAL', 'AWS_SERVICE') AND server_kind IS DISTINCT FROM 'EXTERNAL'
                                     THEN 0 ELSE least(coalesce(internet_bytes, 0), coalesce(bytes_to_server, 0)) END AS inet_c
                           FROM ${edges} WHERE bucket >= CAST($1 AS TIMESTAMP) AND bucket < CAST($2 AS TIMESTAMP)),
                    sent AS (SELECT coalesce(client_instance_id, client_addr) AS sender, client_az_id AS az, client_subnet_id AS subnet,
                                    coalesce(bytes_to_server, 0) AS b, coalesce(packets_to_server, 0) AS p, coalesce(connections, 0) AS n,
                                    client_az_id <> server_az_id AS x, client_region <> server_region AS xr, via_nat, inet_c AS inet FROM e
                             UNION ALL
                             SELECT coalesce(server_instance_id, server_addr), server_az_id, server_subnet_id,
                                    coalesce(bytes_to_client, 0), coalesce(packets_to_client, 0), 0,
                                    client_az_id <> server_az_id, client_region <> server_region, via_nat,
                                    coalesce(internet_bytes, 0) - inet_c FROM e)
               SELECT sender, CASE WHEN min(az) = max(az) THEN min(az) END, CASE WHEN min(subnet) = max(subnet) THEN min(subnet) END,
                      sum(b) AS bytes, sum(p), sum(n), coalesce(sum(b) FILTER (x), 0) AS cross_az, coalesce(sum(b) FILTER (xr), 0),
                      coalesce(sum(b) FILTER (via_nat), 0), sum(inet)
               FROM sent GROUP BY ALL HAVING sum(b) > 0 OR sum(p) > 0 OR sum(n) > 0 ORDER BY cross_az DESC, sender LIMIT 21`,
        params: w(c),
      },
    ],
  },
  {
    name: 'TAG level: top 10 app -> app edges',
    query: (c) =>
      `{ trafficEdges(filter: { ${window(c)} }, level: TAG, tagKey: "app", first: 10) { nodes { client { id } server { id } protocol serverPort bytes connections } } }`,
    // By hand: each end's app from the one inventory snapshot (an interface's from its instance), edges grouped by it.
    baseline: (c, { edges, inventory }) => [
      {
        text: `WITH inv AS (SELECT * FROM ${inventory}),
                    app AS (SELECT r.resource_id AS id, list_filter(coalesce(o.tags, r.tags), lambda t: t.key = 'app')[1].value AS app
                            FROM inv r LEFT JOIN inv o ON o.resource_type = 'instance' AND o.resource_id = r.instance_id),
                    e AS (SELECT coalesce('app=' || ca.app, client_instance_id, client_interface_id, client_addr) AS client,
                                 coalesce('app=' || sa.app, server_instance_id, server_interface_id, server_addr) AS server,
                                 protocol, server_port, bytes_to_server, bytes_to_client, connections
                          FROM ${edges}
                          LEFT JOIN app ca ON ca.id = coalesce(client_instance_id, client_interface_id)
                          LEFT JOIN app sa ON sa.id = coalesce(server_instance_id, server_interface_id)
                          WHERE bucket >= CAST($1 AS TIMESTAMP) AND bucket < CAST($2 AS TIMESTAMP))
               SELECT client, server, protocol, server_port, sum(bytes_to_server) + sum(bytes_to_client) AS bytes, sum(connections)
               FROM e GROUP BY ALL ORDER BY bytes DESC, client, server, protocol, server_port LIMIT 11`,
        params: w(c),
      },
    ],
  },
  {
    name: 'tag filter: flows of team payments, summary',
    query: (c) =>
      `{ flowSummary(filter: { ${window(c)}, tag: { key: "team", values: ["payments"] } }) { records bytes packets } }`,
    baseline: (c, { flows, inventory }) => [
      {
        text: `WITH inv AS (SELECT * FROM ${inventory}),
                    team AS (SELECT r.resource_id AS id FROM inv r LEFT JOIN inv o ON o.resource_type = 'instance' AND o.resource_id = r.instance_id
                             WHERE list_filter(coalesce(o.tags, r.tags), lambda t: t.key = 'team')[1].value = 'payments')
               SELECT count(*), sum(bytes), sum(packets) FROM ${flows}
               WHERE ${day} AND coalesce(instance_id, interface_id) IN (SELECT id FROM team)`,
        params: w(c),
      },
    ],
  },
  {
    name: 'AWS service grouping: top 10 DST_AWS_SERVICE by bytes',
    query: (c) =>
      `{ flowTopN(filter: { ${window(c)} }, by: DST_AWS_SERVICE, metric: BYTES, limit: 10) { rows { key { dstAwsService } bytes } } }`,
    // By hand: the record's own pkt-dst-aws-service, else the longest ip-ranges prefix holding its packet destination
    // (a service before AMAZON), looked up once per distinct address; IPv4 only (the estate's public peers are).
    baseline: (c, { flows, ipRanges }) => [
      {
        text: `WITH per_addr AS (
                 SELECT coalesce(pkt_dstaddr, dstaddr) AS a, pkt_dst_aws_service AS logged, sum(bytes) AS bytes
                 FROM ${flows} WHERE ${day} GROUP BY ALL),
               named AS (
                 SELECT coalesce(logged, (SELECT first(r.service ORDER BY r.prefix_len DESC, r.service = 'AMAZON', r.service)
                                          FROM ${ipRanges ?? "(SELECT NULL::VARCHAR AS service, 0 AS prefix_len, '' AS first_hex, '' AS last_hex, 4 AS family)"} r
                                          WHERE r.family = 4 AND NOT contains(a, ':') AND printf('%08x',
                                            ((split_part(a, '.', 1)::BIGINT * 256 + split_part(a, '.', 2)::BIGINT) * 256
                                             + split_part(a, '.', 3)::BIGINT) * 256 + split_part(a, '.', 4)::BIGINT)
                                            BETWEEN r.first_hex AND r.last_hex)) AS service, bytes
                 FROM per_addr)
               SELECT service, sum(bytes) AS bytes FROM named WHERE service IS NOT NULL
               GROUP BY service ORDER BY bytes DESC, service LIMIT 10`,
        params: w(c),
      },
    ],
  },
];
