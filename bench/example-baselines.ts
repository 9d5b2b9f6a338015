/**
 * Hand-written DuckDB SQL answering each GraphiQL example (src/graphql/graphiql-tabs.ts) and each dataset download,
 * for bench:api and bench:scale: what a user scripting DuckDB by hand would run for the same answer. A question may
 * need several statements (run concurrently, as GraphQL resolves root fields concurrently).
 *
 * Flow statements read a tier: each says the grain it needs (`day`: no time buckets, so a daily rollup answers it;
 * `hour`: hourly buckets; `record`: a per-record filter or a sub-hour rate, only the records answer), and the caller
 * maps the grain to a table (bench:api reads the records for every grain; bench:scale the tier flowql's planner picks
 * for a window of whole days). Metrics are written for that table: a rollup row stands for `records` records.
 * Connection statements read the derived tables (`handshakes`, `edges`, the organisation's when several accounts log)
 * and the inventory; a caller without them gets no connection baselines.
 */
import type { DuckDBValue } from '@duckdb/node-api';
import type { ExampleContext } from '../src/graphql/graphiql-tabs.ts';

/** The tables holding flows at some grain, coarsest first (as extensions.cost.tiers names them). */
export type FlowTable = 'flows_daily' | 'flows_hourly' | 'flows';
/** The grain a flow statement needs. */
export type Grain = 'day' | 'hour' | 'record';

/** One statement of a baseline and the table it reads. */
export interface BaselineStatement {
  readonly text: string;
  readonly params: DuckDBValue[];
  readonly reads: string;
}

/** Where the baselines read. */
export interface BaselineSources {
  /** The flows table that answers `grain` (a rollup, or the records). */
  readonly tableFor: (grain: Grain) => FlowTable;
  /** A relation over a flows table's files of the window (read_parquet with Hive partitions). */
  readonly flows: (table: FlowTable) => string;
  /** Relations over the derived connection tables and the inventory; absent: no connection baselines. */
  readonly connections?: {
    readonly handshakes: string;
    readonly edges: string;
    readonly inventory: string;
    /** The connection tables' names as read (`org_edges` when the organisation's are). */
    readonly handshakesTable: string;
    readonly edgesTable: string;
    /**
     * The edge rows a window of whole days is read from where the question allows (every level but TAG): the daily
     * rollup (`org_edges_daily`) when every day of the window has it, else the same as `edges`.
     */
    readonly wholeDayEdges: string;
    readonly wholeDayEdgesTable: string;
  };
}

/** Metric expressions over a flows table (a rollup row carries its record count, first and last time). */
function metrics(table: FlowTable) {
  const rollup = table !== 'flows';
  const records = rollup ? 'sum(records)' : 'count(*)';
  return {
    records,
    recordsWhere: (cond: string) =>
      rollup ? `coalesce(sum(records) FILTER (WHERE ${cond}), 0)` : `count(*) FILTER (WHERE ${cond})`,
    firstSeen: rollup ? 'min(first_seen)' : 'min(start_time)',
    lastSeen: rollup ? 'max(last_seen)' : 'max(end_time)',
  };
}

/** The window $1..$2 (UTC timestamps without a zone), its dates first so DuckDB prunes partitions. */
const WINDOW = `date >= CAST($1 AS TIMESTAMP)::DATE AND date <= CAST(CAST($2 AS TIMESTAMP) - INTERVAL 1 MICROSECOND AS DATE) AND start_time >= CAST($1 AS TIMESTAMP) AND start_time < CAST($2 AS TIMESTAMP)`;
const BUCKET_WINDOW = `bucket >= CAST($1 AS TIMESTAMP) AND bucket < CAST($2 AS TIMESTAMP)`;
const window = (c: ExampleContext): DuckDBValue[] => [c.from.slice(0, 19), c.to.slice(0, 19)];

/** A flow statement over the table of `grain`. */
function flowStatement(
  s: BaselineSources,
  c: ExampleContext,
  grain: Grain,
  text: (src: string, m: ReturnType<typeof metrics>) => string,
  params: DuckDBValue[] = [],
): BaselineStatement {
  const table = s.tableFor(grain);
  return { text: text(s.flows(table), metrics(table)), params: [...window(c), ...params], reads: table };
}

/** The baseline statements of each example, by the example's name (a name missing here has none). */
export function exampleBaselines(c: ExampleContext, s: BaselineSources): Record<string, BaselineStatement[]> {
  const rejected = `${WINDOW} AND action = 'REJECT'`;
  const out: Record<string, BaselineStatement[]> = {
    FlowsOfAnInstance: [
      flowStatement(
        s,
        c,
        'record',
        (f) =>
          `SELECT start_time, interface_id, srcaddr, srcport, dstaddr, dstport, protocol, action, bytes, packets, tcp_flags FROM ${f} WHERE ${WINDOW} AND instance_id = $3 ORDER BY start_time, flow_id LIMIT 21`,
        [c.instanceId],
      ),
    ],
    TopTalkers: [
      flowStatement(
        s,
        c,
        'day',
        (f, m) =>
          `SELECT srcaddr, dstaddr, sum(bytes) AS b, sum(packets), ${m.records} FROM ${f} WHERE ${WINDOW} AND srcaddr IS NOT NULL AND dstaddr IS NOT NULL GROUP BY ALL ORDER BY b DESC LIMIT 11`,
      ),
      flowStatement(
        s,
        c,
        'day',
        (f, m) =>
          `SELECT ${m.records}, sum(bytes), sum(packets), count(DISTINCT srcaddr), count(DISTINCT dstaddr) FROM ${f} WHERE ${WINDOW}`,
      ),
    ],
    RejectedTraffic: [
      flowStatement(
        s,
        c,
        'day',
        (f, m) =>
          `SELECT ${m.records}, sum(bytes), count(DISTINCT srcaddr), ${m.firstSeen}, ${m.lastSeen} FROM ${f} WHERE ${rejected}`,
      ),
      flowStatement(
        s,
        c,
        'day',
        (f, m) =>
          `SELECT srcaddr, ${m.records} AS n, count(DISTINCT dstaddr) FROM ${f} WHERE ${rejected} AND srcaddr IS NOT NULL GROUP BY ALL ORDER BY n DESC LIMIT 11`,
      ),
      flowStatement(
        s,
        c,
        'day',
        (f, m) =>
          `SELECT dstport, ${m.records} AS n FROM ${f} WHERE ${rejected} AND dstport IS NOT NULL GROUP BY ALL ORDER BY n DESC LIMIT 11`,
      ),
    ],
    TrafficOverTime: [
      flowStatement(
        s,
        c,
        'hour',
        (
          f,
          m,
        ) => `WITH g AS (SELECT time_bucket(INTERVAL 1 HOUR, start_time) AS t, account_id, sum(bytes) AS b, ${m.records}, ${m.recordsWhere("action = 'REJECT'")} FROM ${f} WHERE ${WINDOW} GROUP BY ALL),
               top AS (SELECT account_id FROM g GROUP BY ALL ORDER BY sum(b) DESC LIMIT 5)
               SELECT * FROM g WHERE account_id IN (SELECT account_id FROM top) ORDER BY account_id, t`,
      ),
    ],
    OutliersAndFanOut: [
      flowStatement(
        s,
        c,
        'record',
        (f) =>
          `SELECT start_time, interface_id, srcaddr, dstaddr, dstport, bytes FROM ${f} WHERE ${WINDOW} AND bytes >= 100000 ORDER BY start_time, flow_id LIMIT 11`,
      ),
      flowStatement(
        s,
        c,
        'day',
        (f, m) =>
          `SELECT srcaddr, count(DISTINCT dstport) AS p, count(DISTINCT dstaddr), ${m.records} FROM ${f} WHERE ${rejected} AND srcaddr IS NOT NULL GROUP BY ALL ORDER BY p DESC, srcaddr LIMIT 6`,
      ),
      // Every 5-minute bucket of the window per instance, empty ones as 0, then the nearest-rank 95th percentile.
      flowStatement(
        s,
        c,
        'record',
        (
          f,
        ) => `WITH b AS (SELECT instance_id, time_bucket(INTERVAL 5 MINUTE, start_time) AS t, sum(bytes) * 8 / 300.0 AS r, avg(bytes) AS a, max(bytes) AS x
                      FROM ${f} WHERE ${WINDOW} AND instance_id IS NOT NULL GROUP BY ALL),
                   grid AS (SELECT i.instance_id, g.t, coalesce(b.r, 0) AS r
                            FROM (SELECT DISTINCT instance_id FROM b) i
                            CROSS JOIN generate_series(CAST($1 AS TIMESTAMP), CAST($2 AS TIMESTAMP) - INTERVAL 5 MINUTE, INTERVAL 5 MINUTE) g(t)
                            LEFT JOIN b ON b.instance_id = i.instance_id AND b.t = g.t)
              SELECT instance_id, quantile_disc(r, 0.95) AS p95, max(r) FROM grid GROUP BY ALL ORDER BY p95 DESC, instance_id LIMIT 6`,
      ),
    ],
    Coverage: [
      flowStatement(
        s,
        c,
        'day',
        (f, m) =>
          `SELECT account_id, region, interface_id, ${m.records} AS n, ${m.recordsWhere("log_status = 'OK'")} AS ok, ${m.recordsWhere("log_status = 'NODATA'")} AS nd, ${m.recordsWhere("log_status = 'SKIPDATA'")} AS sd FROM ${f} WHERE ${WINDOW} GROUP BY ALL ORDER BY sd DESC, nd DESC, account_id, region, interface_id LIMIT 6`,
      ),
    ],
  };
  const k = s.connections;
  if (!k) return out;
  const w = window(c);
  const inWindow = `start_time >= CAST($1 AS TIMESTAMP) AND start_time < CAST($2 AS TIMESTAMP)`;
  // Each end's app tag from the inventory (an interface's from its instance), as question-shapes-bench-cases.ts.
  const apps = `inv AS (SELECT * FROM ${k.inventory}),
                app AS (SELECT r.resource_id AS id, list_filter(coalesce(o.tags, r.tags), lambda t: t.key = 'app')[1].value AS app
                        FROM inv r LEFT JOIN inv o ON o.resource_type = 'instance' AND o.resource_id = r.instance_id)`;
  const edgesByApp = (where: string) => `WITH ${apps},
                e AS (SELECT coalesce('app=' || ca.app, client_instance_id, client_interface_id, client_addr) AS client,
                             coalesce('app=' || sa.app, server_instance_id, server_interface_id, server_addr) AS server,
                             protocol, server_port, bytes_to_server, bytes_to_client, connections, client_az_id <> server_az_id AS x,
                             via_nat, internet_bytes
                      FROM ${k.edges}
                      LEFT JOIN app ca ON ca.id = coalesce(client_instance_id, client_interface_id)
                      LEFT JOIN app sa ON sa.id = coalesce(server_instance_id, server_interface_id)
                      WHERE ${BUCKET_WINDOW}${where})
           SELECT client, server, protocol, server_port, sum(bytes_to_server) + sum(bytes_to_client) AS bytes, sum(connections),
                  sum(bytes_to_server + bytes_to_client) FILTER (x), sum(bytes_to_server + bytes_to_client) FILTER (via_nat), sum(internet_bytes)
           FROM e GROUP BY ALL ORDER BY bytes DESC, client, server, protocol, server_port LIMIT 11`;
  const totals = (where: string, edges = k.edges) =>
    `SELECT sum(bytes_to_server + bytes_to_client), sum(bytes_to_server + bytes_to_client) FILTER (client_az_id <> server_az_id),
            sum(bytes_to_server + bytes_to_client) FILTER (client_region <> server_region),
            sum(bytes_to_server + bytes_to_client) FILTER (via_nat), sum(internet_bytes)
     FROM ${edges} WHERE ${BUCKET_WINDOW}${where}`;
  const awsServices = ` AND (client_service IN ('S3', 'DYNAMODB') OR server_service IN ('S3', 'DYNAMODB'))`;
  return {
    ...out,
    Handshakes: [
      {
        text: `SELECT start_time, state, client_addr, client_port, server_addr, server_port, client_kind, client_instance_id, server_kind, server_instance_id, observed_interfaces
               FROM ${k.handshakes} WHERE ${inWindow} AND state IN ('REJECTED', 'UNANSWERED', 'RESET')
               ORDER BY start_time, client_addr, client_port, server_addr, server_port LIMIT 21`,
        params: w,
        reads: k.handshakesTable,
      },
    ],
    TrafficEdgesCost: [
      { text: totals('', k.wholeDayEdges), params: w, reads: k.wholeDayEdgesTable },
      // Bytes each end sent (the client's to the server, the server's back), the cross-AZ part on top.
      {
        text: `WITH sent AS (SELECT coalesce(client_instance_id, client_addr) AS sender, bytes_to_server AS b, client_az_id <> server_az_id AS x FROM ${k.wholeDayEdges} WHERE ${BUCKET_WINDOW}
                             UNION ALL
                             SELECT coalesce(server_instance_id, server_addr), bytes_to_client, client_az_id <> server_az_id FROM ${k.wholeDayEdges} WHERE ${BUCKET_WINDOW})
               SELECT sender, sum(b), coalesce(sum(b) FILTER (x), 0) AS cross_az FROM sent GROUP BY ALL ORDER BY cross_az DESC, sender LIMIT 6`,
        params: w,
        reads: k.wholeDayEdgesTable,
      },
      {
        text: `SELECT coalesce(client_instance_id, client_addr) AS client, coalesce(server_instance_id, server_addr) AS server, protocol, server_port,
                      sum(bytes_to_server), sum(bytes_to_client), sum(connections), sum(bytes_to_server + bytes_to_client) FILTER (client_az_id <> server_az_id),
                      sum(bytes_to_server + bytes_to_client) FILTER (via_nat), sum(internet_bytes), sum(bytes_to_server + bytes_to_client) AS bytes
               FROM ${k.wholeDayEdges} WHERE ${BUCKET_WINDOW} GROUP BY ALL ORDER BY bytes DESC, client, server LIMIT 11`,
        params: w,
        reads: k.wholeDayEdgesTable,
      },
    ],
    ServicesByApp: [
      { text: edgesByApp(''), params: w, reads: `${k.edgesTable}+inventory` },
      { text: totals(awsServices, k.wholeDayEdges), params: w, reads: k.wholeDayEdgesTable },
      { text: edgesByApp(awsServices), params: w, reads: `${k.edgesTable}+inventory` },
    ],
  };
}

/** One dataset download (`/datasets/<path>` plus the window) and its baseline. */
export interface DatasetBaseline {
  readonly name: string;
  /** Path and parameters after `/datasets/`, ending with `&` or `?` so the window can follow. */
  readonly path: string;
  readonly statements: BaselineStatement[];
}

/** Every dataset (src/questions/dataset-statement.ts), with parameters a BI tool would send, and its baseline. */
export function datasetBaselines(c: ExampleContext, s: BaselineSources): DatasetBaseline[] {
  const flows: DatasetBaseline[] = [
    {
      name: 'flows.csv (instance, 1000 rows)',
      path: `flows.csv?instanceId=${c.instanceId}&limit=1000&`,
      statements: [
        flowStatement(
          s,
          c,
          'record',
          (f) => `SELECT * FROM ${f} WHERE ${WINDOW} AND instance_id = $3 ORDER BY start_time, flow_id LIMIT 1001`,
          [c.instanceId],
        ),
      ],
    },
    {
      name: 'summary.csv',
      path: 'summary.csv?',
      statements: [
        flowStatement(
          s,
          c,
          'day',
          (f, m) =>
            `SELECT ${m.records}, sum(bytes), sum(packets), ${m.recordsWhere("action = 'ACCEPT'")}, ${m.recordsWhere("action = 'REJECT'")},
                    ${m.recordsWhere("log_status = 'NODATA'")}, ${m.recordsWhere("log_status = 'SKIPDATA'")},
                    count(DISTINCT srcaddr), count(DISTINCT dstaddr), count(DISTINCT interface_id), ${m.firstSeen}, ${m.lastSeen}
             FROM ${f} WHERE ${WINDOW}`,
        ),
      ],
    },
    {
      name: 'timeseries.csv (hourly)',
      path: 'timeseries.csv?interval=HOUR&',
      statements: [
        flowStatement(
          s,
          c,
          'hour',
          (f, m) =>
            `SELECT time_bucket(INTERVAL 1 HOUR, start_time) AS t, ${m.records}, sum(bytes), sum(packets) FROM ${f} WHERE ${WINDOW} GROUP BY ALL ORDER BY t`,
        ),
      ],
    },
    {
      name: 'topn.csv (DST_PORT by bytes, 20)',
      path: 'topn.csv?by=DST_PORT&metric=BYTES&limit=20&',
      statements: [
        flowStatement(
          s,
          c,
          'day',
          (f, m) =>
            `SELECT dstport, sum(bytes) AS b, ${m.records}, sum(packets) FROM ${f} WHERE ${WINDOW} AND dstport IS NOT NULL GROUP BY ALL ORDER BY b DESC, dstport LIMIT 21`,
        ),
      ],
    },
    {
      name: 'breakdown.csv (SRC_ADDR x DST_PORT, 100)',
      path: 'breakdown.csv?by=SRC_ADDR&by=DST_PORT&metric=BYTES&limit=100&',
      statements: [
        flowStatement(
          s,
          c,
          'day',
          (f, m) =>
            `SELECT srcaddr, dstport, sum(bytes) AS b, ${m.records}, sum(packets) FROM ${f} WHERE ${WINDOW} GROUP BY ALL ORDER BY b DESC, srcaddr, dstport LIMIT 101`,
        ),
      ],
    },
  ];
  const k = s.connections;
  if (!k) return flows;
  const w = window(c);
  return [
    ...flows,
    {
      name: 'handshakes.csv (1000 rows)',
      path: 'handshakes.csv?limit=1000&',
      statements: [
        {
          text: `SELECT * FROM ${k.handshakes} WHERE start_time >= CAST($1 AS TIMESTAMP) AND start_time < CAST($2 AS TIMESTAMP)
                 ORDER BY start_time, client_addr, client_port, server_addr, server_port LIMIT 1001`,
          params: w,
          reads: k.handshakesTable,
        },
      ],
    },
    {
      name: 'edges.csv (INSTANCE by bytes, 100)',
      path: 'edges.csv?limit=100&',
      statements: [
        {
          text: `SELECT coalesce(client_instance_id, client_addr) AS client, coalesce(server_instance_id, server_addr) AS server, protocol, server_port,
                        sum(bytes_to_server), sum(bytes_to_client), sum(connections), sum(bytes_to_server + bytes_to_client) AS bytes
                 FROM ${k.wholeDayEdges} WHERE ${BUCKET_WINDOW} GROUP BY ALL ORDER BY bytes DESC, client, server LIMIT 101`,
          params: w,
          reads: k.wholeDayEdgesTable,
        },
      ],
    },
    {
      name: 'cost.csv (SENDER by bytes, 1000)',
      path: 'cost.csv?groupBy=SENDER&orderBy=BYTES&limit=1000&',
      statements: [
        {
          // Bytes each end sent (the client's to the server, the server's back), with the cross-AZ and NAT parts.
          text: `WITH sent AS (SELECT coalesce(client_instance_id, client_addr) AS sender, bytes_to_server AS b, client_az_id <> server_az_id AS x, via_nat FROM ${k.wholeDayEdges} WHERE ${BUCKET_WINDOW}
                               UNION ALL
                               SELECT coalesce(server_instance_id, server_addr), bytes_to_client, client_az_id <> server_az_id, via_nat FROM ${k.wholeDayEdges} WHERE ${BUCKET_WINDOW})
                 SELECT sender, sum(b) AS bytes, coalesce(sum(b) FILTER (x), 0), coalesce(sum(b) FILTER (via_nat), 0) FROM sent GROUP BY ALL ORDER BY bytes DESC, sender LIMIT 1001`,
          params: w,
          reads: k.wholeDayEdgesTable,
        },
      ],
    },
  ];
}

/** A GraphQL question over a long window and its baseline. */
export interface WindowQuestion {
  readonly name: string;
  readonly query: string;
  readonly statements: BaselineStatement[];
}

/**
 * A dashboard's questions over a long window `c` (a month): the top address pairs, a daily and an hourly series, and
 * the top instance edges.
 */
export function longWindowQuestions(c: ExampleContext, s: BaselineSources): WindowQuestion[] {
  const range = `timeRange: { from: "${c.from}", to: "${c.to}" }`;
  const series = (interval: 'DAY' | 'HOUR', grain: Grain): WindowQuestion => ({
    name: `flowTimeSeries ${interval}`,
    query: `{ flowTimeSeries(filter: { ${range} }, interval: ${interval}) { series { points { time bytes packets records } } } }`,
    statements: [
      flowStatement(
        s,
        c,
        grain,
        (f, m) =>
          `SELECT time_bucket(INTERVAL 1 ${interval}, start_time) AS t, sum(bytes), sum(packets), ${m.records} FROM ${f} WHERE ${WINDOW} GROUP BY ALL ORDER BY t`,
      ),
    ],
  });
  const k = s.connections;
  // The top instance edges of the window: daily edge rows for its whole days (connection-source.ts).
  const edges = (k: NonNullable<BaselineSources['connections']>): WindowQuestion => ({
    name: 'trafficEdges INSTANCE by bytes, 10',
    query: `{ trafficEdges(filter: { ${range} }, level: INSTANCE, orderBy: BYTES, first: 10) { nodes { client { id } server { id } protocol serverPort bytesToServer bytesToClient connections } } }`,
    statements: [
      {
        text: `SELECT coalesce(client_instance_id, client_addr) AS client, coalesce(server_instance_id, server_addr) AS server, protocol, server_port,
                      sum(bytes_to_server), sum(bytes_to_client), sum(connections), sum(bytes_to_server + bytes_to_client) AS bytes
               FROM ${k.wholeDayEdges} WHERE ${BUCKET_WINDOW} GROUP BY ALL ORDER BY bytes DESC, client, server LIMIT 11`,
        params: window(c),
        reads: k.wholeDayEdgesTable,
      },
    ],
  });
  return [
    {
      name: 'flowTopN ADDRESS_PAIR by bytes, 10',
      query: `{ flowTopN(filter: { ${range} }, by: ADDRESS_PAIR, metric: BYTES, limit: 10) { rows { label bytes packets records } } }`,
      statements: [
        flowStatement(
          s,
          c,
          'day',
          (f, m) =>
            `SELECT srcaddr, dstaddr, sum(bytes) AS b, sum(packets), ${m.records} FROM ${f} WHERE ${WINDOW} AND srcaddr IS NOT NULL AND dstaddr IS NOT NULL GROUP BY ALL ORDER BY b DESC LIMIT 11`,
        ),
      ],
    },
    series('DAY', 'day'),
    series('HOUR', 'hour'),
    ...(k ? [edges(k)] : []),
  ];
}
