/**
 * GraphiQL's opening tabs: example queries that run as they are against the data in the warehouse. Each query gives
 * its variables default values inside the query text (GraphiQL's variables pane of a preloaded tab can render empty,
 * see toolchain-notes.md), derived from the manifest's newest day and an instance seen that day. The Chromium test
 * and `npm run bench:api` run the same list.
 */
import type { GraphiQLOptions } from 'graphql-yoga';
import { CostMeter } from '../store/query-cost.ts';
import type { QueryContext, QueryLogger } from '../store/query-runner.ts';
import { readFlowTopN } from '../questions/aggregate-reader.ts';
import { newestFlowDate } from '../questions/partition-reader.ts';
import type { WarehouseReader } from '../store/warehouse-reader.ts';
import { validateFlowFilter } from '../domain/flow-filter.ts';

/** The values the example queries default to. */
export interface ExampleContext {
  /** Start of the newest UTC day with data (ISO-8601). */
  readonly from: string;
  /** End (exclusive) of that day. */
  readonly to: string;
  /** The busiest instance of that day, for "flows of an instance" (a placeholder on an empty warehouse). */
  readonly instanceId: string;
}

/** One example: a tab title (its operation name) and its query text for a context. */
export interface ExampleQuery {
  readonly name: string;
  /** What the example shows, one line (the tab's leading comment). */
  readonly about: string;
  readonly query: (ctx: ExampleContext) => string;
}

/** Variable declarations with their defaults, one a line. */
const vars = (c: ExampleContext, ...more: string[]) =>
  ['', `$from: DateTime = "${c.from}"`, `$to: DateTime = "${c.to}"`, ...more].join('\n  ') + '\n';

/** The examples, in tab order (flows and aggregates, then the connection analytics: handshakes, edges with costs). */
export const EXAMPLE_QUERIES: readonly ExampleQuery[] = [
  {
    name: 'FlowsOfAnInstance',
    about: 'The first page of flow records logged at one instance during one day.',
    query: (c) => `query FlowsOfAnInstance(${vars(c, `$instanceId: String = "${c.instanceId}"`)}) {
  flows(filter: { timeRange: { from: $from, to: $to }, instanceIds: [$instanceId] }, first: 20) {
    nodes {
      start
      interfaceId
      srcAddr
      srcPort
      dstAddr
      dstPort
      protocolName
      action
      bytes
      packets
      tcpFlagNames
    }
    pageInfo { hasNextPage endCursor }
  }
}`,
  },
  {
    name: 'TopTalkers',
    about: 'The address pairs that moved the most bytes during one day (as logged at every interface).',
    query: (c) => `query TopTalkers(${vars(c)}) {
  flowTopN(filter: { timeRange: { from: $from, to: $to } }, by: ADDRESS_PAIR, metric: BYTES, limit: 10) {
    truncated
    rows { label bytes packets records }
  }
  flowSummary(filter: { timeRange: { from: $from, to: $to } }) { records bytes packets distinctSrcAddrs distinctDstAddrs }
}`,
  },
  {
    name: 'RejectedTraffic',
    about: 'Rejected records during one day: totals, the sources rejected most, and the ports they tried.',
    query: (c) => `query RejectedTraffic(${vars(c)}) {
  flowSummary(filter: { timeRange: { from: $from, to: $to }, actions: [REJECT] }) { records bytes distinctSrcAddrs firstSeen lastSeen }
  bySource: flowTopN(filter: { timeRange: { from: $from, to: $to }, actions: [REJECT] }, by: SRC_ADDR, metric: RECORDS, limit: 10) {
    rows { label records distinctDstAddrs }
  }
  byPort: flowTopN(filter: { timeRange: { from: $from, to: $to }, actions: [REJECT] }, by: DST_PORT, metric: RECORDS, limit: 10) {
    rows { label records }
  }
}`,
  },
  {
    name: 'TrafficOverTime',
    about: 'Bytes per hour during one day, one series per account.',
    query: (c) => `query TrafficOverTime(${vars(c)}) {
  flowTimeSeries(filter: { timeRange: { from: $from, to: $to } }, interval: HOUR, groupBy: ACCOUNT, maxSeries: 5) {
    series {
      label
      points { time bytes records rejectedRecords }
    }
  }
}`,
  },
  {
    name: 'OutliersAndFanOut',
    about:
      'One day: single flows of 100 kB or more, sources whose rejected records reached the most ports (a scan), the instances with the highest p95 rate.',
    query: (c) => `query OutliersAndFanOut(${vars(c)}) {
  largeFlows: flows(
    filter: { timeRange: { from: $from, to: $to }, minBytes: "100000" }
    first: 10
  ) {
    nodes { start interfaceId srcAddr dstAddr dstPort bytes }
  }
  rejectedFanOut: flowTopN(
    filter: { timeRange: { from: $from, to: $to }, actions: [REJECT] }
    by: SRC_ADDR, metric: DISTINCT_DST_PORTS, limit: 5
  ) {
    rows { label distinctDstPorts distinctDstAddrs records }
  }
  busiest: flowTopN(
    filter: { timeRange: { from: $from, to: $to } }
    by: INSTANCE, metric: P95_BITS_PER_SECOND, rateInterval: FIVE_MINUTES, limit: 5
  ) {
    rows { label p95BitsPerSecond peakBitsPerSecond avgBytes maxBytes }
  }
}`,
  },
  {
    name: 'Coverage',
    about: 'What is ingested: tables, partitions, freshness, and interfaces with NODATA/SKIPDATA windows.',
    query: (c) => `query Coverage(${vars(c)}) {
  datasets { table accountIds regions firstDate lastDate partitionCount files records bytes }
  ingestStatus { generation objects records rejects lastIngestAt }
  partitions(first: 10) { totalCount nodes { accountId region date files records } }
  interfaceStatus(filter: { timeRange: { from: $from, to: $to } }, limit: 5) {
    rows { accountId interfaceId records nodataRecords skipdataRecords }
  }
}`,
  },
  {
    name: 'Handshakes',
    about:
      'TCP handshakes of one day that did not complete (rejected, unanswered, reset), oldest first, with both ends.',
    query: (c) => `query Handshakes(${vars(c)}) {
  handshakes(filter: { timeRange: { from: $from, to: $to } }, states: [REJECTED, UNANSWERED, RESET], first: 20) {
    nodes {
      start
      state
      clientAddr
      clientPort
      serverAddr
      serverPort
      client { kind id name }
      server { kind id name }
      observedAt
    }
    pageInfo { hasNextPage endCursor }
  }
}`,
  },
  {
    name: 'TrafficEdgesCost',
    about:
      'Who talks to whom (bytes counted once, not per observation point) and what it costs: cross-AZ, NAT, internet, and who sends the cross-AZ bytes.',
    query: (c) => `query TrafficEdgesCost(${vars(c)}) {
  trafficCost(filter: { timeRange: { from: $from, to: $to } }) {
    bytes
    crossAzBytes
    crossRegionBytes
    natBytes
    internetBytes
  }
  crossAzSenders: trafficCost(
    filter: { timeRange: { from: $from, to: $to } }
    groupBy: SENDER, level: INSTANCE, orderBy: CROSS_AZ_BYTES, limit: 5
  ) {
    groups { rows { sender { kind id name azId } bytes crossAzBytes natBytes internetBytes } }
  }
  trafficEdges(filter: { timeRange: { from: $from, to: $to } }, level: INSTANCE, orderBy: BYTES, first: 10) {
    nodes {
      client { kind id name }
      server { kind id name }
      protocol
      serverPort
      bytesToServer
      bytesToClient
      connections
      crossAzBytes
      natBytes
      internetBytes
      directionMethod
    }
  }
}`,
  },
  {
    name: 'ServicesByApp',
    about:
      "Service-to-service edges by the inventory's app tag, and the traffic to AWS services (S3, DynamoDB) by app: how much went through a NAT gateway (a free gateway endpoint would carry it) or an internet gateway.",
    query: (c) => `query ServicesByApp(${vars(c)}) {
  services: trafficEdges(
    filter: { timeRange: { from: $from, to: $to } }
    level: TAG
    tagKey: "app"
    first: 10
  ) {
    nodes {
      client { id }
      server { id }
      serverPort
      bytes
      connections
      crossAzBytes
    }
  }
  toAwsServices: trafficCost(
    filter: {
      timeRange: { from: $from, to: $to }
      awsServices: ["S3", "DYNAMODB"]
    }
  ) {
    bytes
    natBytes
    internetBytes
  }
  awsServicesByApp: trafficEdges(
    filter: {
      timeRange: { from: $from, to: $to }
      awsServices: ["S3", "DYNAMODB"]
    }
    level: TAG
    tagKey: "app"
    first: 10
  ) {
    nodes {
      client { id }
      server { ip awsService }
      bytes
      natBytes
      internetBytes
    }
  }
}`,
  },
];

const DAY_MS = 86_400_000;

/** Example defaults for a newest date (today, UTC, on an empty warehouse) and an instance id. */
export function exampleContext(newestDate: string | null, instanceId: string | null, now = new Date()): ExampleContext {
  const day = newestDate ?? now.toISOString().slice(0, 10);
  const from = new Date(`${day}T00:00:00Z`);
  return {
    from: from.toISOString(),
    to: new Date(from.getTime() + DAY_MS).toISOString(),
    instanceId: instanceId ?? 'i-0123456789abcdef0',
  };
}

/** GraphiQL tabs for a context: each example preceded by a comment saying what it shows. */
export function exampleTabs(ctx: ExampleContext, examples: readonly ExampleQuery[] = EXAMPLE_QUERIES) {
  return examples.map((e) => ({ query: `# ${e.about}\n${e.query(ctx)}\n`, variables: null, headers: null }));
}

/** What the tab builder needs from the server. */
export interface ExampleDeps {
  readonly db: QueryContext['db'];
  readonly warehouse: WarehouseReader;
  readonly log: QueryLogger;
}

/** The example context of the current data: the newest day, and that day's busiest instance (one top-N query). */
export async function loadExampleContext(deps: ExampleDeps): Promise<ExampleContext> {
  const manifest = await deps.warehouse.manifest();
  const newest = newestFlowDate(manifest);
  if (!newest) return exampleContext(null, null);
  const base = exampleContext(newest, null);
  const ctx: QueryContext = { ...deps, cost: new CostMeter(), deadline: Date.now() + 10_000 };
  const filter = validateFlowFilter({ timeRange: { from: base.from, to: base.to } });
  const top = await readFlowTopN(ctx, filter, { by: 'INSTANCE', metric: 'RECORDS', values: [], limit: 1 });
  return exampleContext(newest, (top.rows[0]?.key.INSTANCE as string | undefined) ?? null);
}

/**
 * yoga's `graphiql` option: a factory building the tabs from the current manifest (recomputed when its generation
 * changes, so a warehouse filled after start gets matching examples). The examples are drawn from the request's own
 * warehouse (the tenant-scoped reader src/http/request-handler.ts passes as server context), so a tenant's page never
 * names another account's instance; one cache per reader, and the scoped readers are shared per allow-list.
 */
export function graphiqlOptions(
  deps: ExampleDeps,
): (request?: Request, server?: { warehouse?: WarehouseReader }) => Promise<GraphiQLOptions> {
  const cache = new WeakMap<WarehouseReader, { generation: number; options: Promise<GraphiQLOptions> }>();
  return async (_request, server) => {
    const warehouse = server?.warehouse ?? deps.warehouse;
    const { generation } = await warehouse.manifest();
    let cached = cache.get(warehouse);
    if (cached?.generation !== generation) {
      const options = loadExampleContext({ ...deps, warehouse }).then((ctx) => ({
        title: 'flowql',
        defaultTabs: exampleTabs(ctx),
        defaultEditorToolsVisibility: false,
      }));
      cached = { generation, options };
      cache.set(warehouse, cached);
      options.catch(() => cache.delete(warehouse));
    }
    return cached.options;
  };
}
