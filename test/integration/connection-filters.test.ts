// Every connection question (handshakes, scans, trafficEdges, edgeGraph, trafficCost with and without groupBy, edgeDiff
// over GraphQL; the handshakes, edges and cost datasets over HTTP) against every FlowFilter field: each field is either applied or refused
// with BAD_USER_INPUT naming it, never ignored (src/analytics/connection-filter-query.ts). The applied `not` filters
// and the client port are then checked against the fixture's known connections. scans reads rejected records
// without tcp-flags as well as handshakes (docs/semantics.md §9): it refuses what handshakes refuse, and each field it
// honours is shown to reach those records too.
// Fixture: the docs/semantics.md §7 cases of test/unit/analytics/connection-cases.ts, derived as the ingester does,
// plus V2_SCAN.
/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies are compared with literal values */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rec, t } from '../helpers/analytics-fixture.ts';
import { writeDerivedFixtureWarehouse } from '../helpers/derived-fixture.ts';
import { gql, testApi } from '../helpers/graphql.ts';
import { addReferenceSnapshots } from '../helpers/reference-fixture.ts';
import { startTestServer } from '../helpers/tenant-fixture.ts';
import * as C from '../unit/analytics/connection-cases.ts';

const DAY1 = { from: '2024-03-01T00:00:00Z', to: '2024-03-02T00:00:00Z' };

/** A value for every FlowFilter input field (GraphQL literal, and the URL parameter of the datasets, if any). */
const FIELDS: Record<string, { graphql: string; param: [string, string] | null; more?: string }> = {
  accountIds: { graphql: '["123456789012"]', param: ['accountId', '123456789012'] },
  regions: { graphql: '["us-east-1"]', param: ['region', 'us-east-1'] },
  vpcIds: { graphql: '["vpc-0123456789abcdef0"]', param: ['vpcId', 'vpc-0123456789abcdef0'] },
  subnetIds: { graphql: '["subnet-0123456789abcdef0"]', param: ['subnetId', 'subnet-0123456789abcdef0'] },
  instanceIds: { graphql: '["i-0123456789abcdef0"]', param: ['instanceId', 'i-0123456789abcdef0'] },
  interfaceIds: { graphql: '["eni-0123456789abcdef0"]', param: ['interfaceId', 'eni-0123456789abcdef0'] },
  srcAddr: { graphql: '["0.0.0.0/0"]', param: ['srcAddr', '0.0.0.0/0'] },
  dstAddr: { graphql: '["0.0.0.0/0"]', param: ['dstAddr', '0.0.0.0/0'] },
  addr: { graphql: '["0.0.0.0/0"]', param: ['addr', '0.0.0.0/0'] },
  notSrcAddr: { graphql: '["192.0.2.0/24"]', param: ['notSrcAddr', '192.0.2.0/24'] },
  notDstAddr: { graphql: '["192.0.2.0/24"]', param: ['notDstAddr', '192.0.2.0/24'] },
  notAddr: { graphql: '["192.0.2.0/24"]', param: ['notAddr', '192.0.2.0/24'] },
  srcPort: { graphql: '[{ from: 1, to: 65535 }]', param: ['srcPort', '1-65535'] },
  dstPort: { graphql: '[{ from: 1, to: 65535 }]', param: ['dstPort', '1-65535'] },
  port: { graphql: '[{ from: 1, to: 65535 }]', param: ['port', '1-65535'] },
  notSrcPort: { graphql: '[{ from: 1, to: 1 }]', param: ['notSrcPort', '1'] },
  notDstPort: { graphql: '[{ from: 1, to: 1 }]', param: ['notDstPort', '1'] },
  notPorts: { graphql: '[{ from: 1, to: 1 }]', param: ['notPort', '1'] },
  protocols: { graphql: '[6, 17]', param: ['protocol', '6'] },
  notProtocols: { graphql: '[1]', param: ['notProtocol', '1'] },
  actions: { graphql: '[ACCEPT]', param: ['action', 'ACCEPT'] },
  logStatuses: { graphql: '[OK]', param: ['logStatus', 'OK'] },
  tcpFlags: { graphql: '{ any: [SYN] }', param: ['tcpFlagsAny', 'SYN'] },
  flowDirections: { graphql: '[EGRESS]', param: ['flowDirection', 'EGRESS'] },
  trafficPaths: { graphql: '[1]', param: ['trafficPath', '1'] },
  pktSrcAwsServices: { graphql: '["S3"]', param: ['pktSrcAwsService', 'S3'] },
  pktDstAwsServices: { graphql: '["S3"]', param: ['pktDstAwsService', 'S3'] },
  awsServices: { graphql: '["S3"]', param: ['awsService', 'S3'] },
  networks: { graphql: '["partner-acme"]', param: ['network', 'partner-acme'] },
  tag: { graphql: '{ key: "team", values: ["payments"] }', param: ['tagKey', 'team'], more: '&tagValue=payments' },
  minBytes: { graphql: '"1"', param: ['minBytes', '1'] },
  maxBytes: { graphql: '"1000000"', param: ['maxBytes', '1000000'] },
  minPackets: { graphql: '"1"', param: ['minPackets', '1'] },
  maxPackets: { graphql: '"1000"', param: ['maxPackets', '1000'] },
  minDurationSeconds: { graphql: '0', param: ['minDurationSeconds', '0'] },
  maxDurationSeconds: { graphql: '600', param: ['maxDurationSeconds', '600'] },
};

/** v2 records (no tcp-flags): 198.51.100.200 rejected at eni-v2 (10.9.0.1) on ports 7000-7002, from port 50000. */
const V2_SCAN = [7000, 7001, 7002].map((port) =>
  rec({
    version: 2,
    account_id: '123456789012',
    interface_id: 'eni-v2',
    srcaddr: '198.51.100.200',
    dstaddr: '10.9.0.1',
    srcport: 50000,
    dstport: port,
    action: 'REJECT',
    start: t('2024-03-01T15:00:00'),
  }),
);
/** The FIELDS values that match no V2_SCAN record: v2 records name no VPC, subnet or instance; eni-v2 is not listed. */
// No inventory is loaded here, so no end carries a tag.
const EXCLUDE_V2_SCAN = ['vpcIds', 'subnetIds', 'instanceIds', 'interfaceIds', 'awsServices', 'tag'];

/** Refused on every connection question: they describe single records. */
const REFUSED = [
  'actions',
  'logStatuses',
  'tcpFlags',
  'flowDirections',
  'trafficPaths',
  'pktSrcAwsServices',
  'pktDstAwsServices',
  'minBytes',
  'maxBytes',
  'minPackets',
  'maxPackets',
  'minDurationSeconds',
  'maxDurationSeconds',
];
/** Refused on the edge questions only: edges sum every client port. */
const EDGES_REFUSE = ['srcPort', 'notSrcPort'];

const window = `timeRange: { from: "${DAY1.from}", to: "${DAY1.to}" }`;
const QUESTIONS: Record<string, { table: 'handshakes' | 'edges'; query: (filter: string) => string }> = {
  handshakes: {
    table: 'handshakes',
    query: (f) => `{ handshakes(filter: { ${window}, ${f} }) { nodes { clientPort } } }`,
  },
  scans: {
    table: 'handshakes',
    query: (f) => `{ scans(filter: { ${window}, ${f} }, minPorts: 1, minHosts: 1) { nodes { sourceAddr } } }`,
  },
  trafficEdges: {
    table: 'edges',
    query: (f) => `{ trafficEdges(filter: { ${window}, ${f} }) { nodes { serverPort } } }`,
  },
  edgeGraph: { table: 'edges', query: (f) => `{ edgeGraph(filter: { ${window}, ${f} }) { truncated } }` },
  trafficCost: { table: 'edges', query: (f) => `{ trafficCost(filter: { ${window}, ${f} }) { bytes } }` },
  trafficCostGroups: {
    table: 'edges',
    query: (f) => `{ trafficCost(filter: { ${window}, ${f} }, groupBy: SENDER) { groups { rows { bytes } } } }`,
  },
  edgeDiff: {
    table: 'edges',
    query: (f) =>
      `{ edgeDiff(filter: { ${f} }, before: { from: "2024-02-29T00:00:00Z", to: "2024-03-01T00:00:00Z" }, after: { from: "${DAY1.from}", to: "${DAY1.to}" }) { truncated } }`,
  },
};

let api: Awaited<ReturnType<typeof testApi>>;
let server: Awaited<ReturnType<typeof startTestServer>>['server'];

beforeAll(async () => {
  const root = await mkdtemp(join(tmpdir(), 'flowql-connection-filters-'));
  await writeDerivedFixtureWarehouse(root, [...Object.values(C).flat(), ...V2_SCAN]);
  // The shipped ip-ranges excerpt and demo networks: V2_SCAN's source 198.51.100.200 is in partner-acme.
  await addReferenceSnapshots(root);
  api = await testApi(root);
  ({ server } = await startTestServer({ dataDir: root }));
});

afterAll(async () => {
  api?.db.closeSync();
  await server?.close();
});

describe('every connection question applies or refuses every filter field', () => {
  it('covers every FlowFilter input field of the schema', async () => {
    const schema = await readFile(join(import.meta.dirname, '../../schema/schema.graphql'), 'utf8');
    const input = /input FlowFilter \{([\s\S]*?)\n\}/.exec(schema)![1]!;
    const fields = [...input.matchAll(/^ {2}(\w+):/gm)].map((m) => m[1]!).filter((f) => f !== 'timeRange');
    expect(Object.keys(FIELDS).sort()).toEqual(fields.sort());
  });

  for (const [name, q] of Object.entries(QUESTIONS)) {
    it(`${name}: refuses exactly the fields it cannot honour, naming them`, async () => {
      const outcomes: string[] = [];
      for (const [field, value] of Object.entries(FIELDS)) {
        const res = await gql<any>(api.yoga, q.query(`${field}: ${value.graphql}`));
        const error = res.errors?.[0];
        outcomes.push(
          error
            ? `${field} ${error.extensions?.code} ${error.message.includes(`filter.${field}`) ? 'named' : error.message}`
            : `${field} applied`,
        );
      }
      const refused = [...REFUSED, ...(q.table === 'edges' ? EDGES_REFUSE : [])];
      expect(outcomes).toEqual(
        Object.keys(FIELDS).map((f) => (refused.includes(f) ? `${f} BAD_USER_INPUT named` : `${f} applied`)),
      );
    });
  }

  for (const dataset of ['handshakes', 'edges', 'cost'] as const) {
    it(`/datasets/${dataset}.csv: refuses the same fields with 400, naming the URL parameter`, async () => {
      const outcomes: string[] = [];
      for (const [field, { param, more }] of Object.entries(FIELDS)) {
        if (!param) continue;
        const url = `${server.url}/datasets/${dataset}.csv?from=${DAY1.from}&to=${DAY1.to}&${param[0]}=${encodeURIComponent(param[1])}${more ?? ''}`;
        const res = await fetch(url);
        const body = await res.text();
        outcomes.push(
          res.status === 200
            ? `${field} applied`
            : `${field} ${res.status} ${body.includes(`Invalid ${param[0]}:`) ? 'named' : body.slice(0, 200)}`,
        );
      }
      const refused = [...REFUSED, ...(dataset === 'handshakes' ? [] : EDGES_REFUSE)];
      expect(outcomes).toEqual(
        Object.keys(FIELDS).map((f) => (refused.includes(f) ? `${f} 400 named` : `${f} applied`)),
      );
    });
  }
  it('scans: every field it honours reaches the rejected records without tcp-flags too', async () => {
    const outcomes: string[] = [];
    for (const [field, value] of Object.entries(FIELDS)) {
      if (REFUSED.includes(field)) continue;
      const res = await gql<any>(
        api.yoga,
        QUESTIONS.scans!.query(`${field}: ${value.graphql}`).replace(
          'nodes { sourceAddr }',
          'nodes { sourceAddr evidence }',
        ),
      );
      const v2 = (res.data as any)?.scans.nodes.filter((n: any) => n.sourceAddr === '198.51.100.200');
      outcomes.push(`${field} ${v2?.map((n: any) => n.evidence).join() || 'none'}`);
    }
    expect(outcomes).toEqual(
      Object.keys(FIELDS)
        .filter((f) => !REFUSED.includes(f))
        .map((f) => `${f} ${EXCLUDE_V2_SCAN.includes(f) ? 'none' : 'REJECTED_RECORDS'}`),
    );
  });
});

describe('the filters connections used to ignore now change the answer', () => {
  const cost = async (filter: string) =>
    BigInt(((await gql<any>(api.yoga, QUESTIONS.trafficCost!.query(filter))).data as any).trafficCost.bytes);

  it('notAddr, notSrcAddr, notDstAddr, notProtocols, notPorts take exactly their connections out of trafficCost', async () => {
    const all = await cost('addr: ["0.0.0.0/0"]');
    // The iperf client 52.213.180.42 -> i-62:5001 (semantics case FLAG_SEQUENCE): 103106 bytes once counted.
    expect(all - (await cost('notAddr: ["52.213.180.42"]'))).toBe(103106n);
    expect(all - (await cost('notSrcAddr: ["52.213.180.42"]'))).toBe(103106n);
    expect(await cost('notDstAddr: ["52.213.180.42"]')).toBe(all);
    expect(await cost('notPorts: [{ from: 5001, to: 5001 }]')).toBe(all - 103106n);
    expect(await cost('notProtocols: [6]')).toBe(0n);
    // Everything excluded: nothing left.
    expect(await cost('notAddr: ["0.0.0.0/0"]')).toBe(0n);
  });

  it('srcPort on handshakes is the client port', async () => {
    const res = await gql<any>(api.yoga, QUESTIONS.handshakes!.query('srcPort: [{ from: 43416, to: 43418 }]'));
    expect((res.data as any).handshakes.nodes.map((n: any) => n.clientPort)).toEqual([43416, 43418]);
    const not = await gql<any>(api.yoga, QUESTIONS.handshakes!.query('notSrcPort: [{ from: 43416, to: 43418 }]'));
    expect((not.data as any).handshakes.nodes.map((n: any) => n.clientPort)).not.toContain(43416);
  });
});
