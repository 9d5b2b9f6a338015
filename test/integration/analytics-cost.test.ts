// Cost attribution (trafficCost groupBy, the cost lens sort keys of trafficEdges, /datasets/cost) through GraphQL
// (yoga.fetch) and HTTP, over a fixture warehouse derived as the ingester does: the docs/semantics.md §7 cases of
// test/unit/analytics/connection-cases.ts plus the two internet-facing servers below. Expected numbers are worked out
// next to each assertion, and the groups are checked against DuckDB SQL written here over the same derived edges files.
/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies are compared with literal values by toEqual */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rec, t, type FixtureRecord } from '../helpers/analytics-fixture.ts';
import { writeDerivedFixtureWarehouse } from '../helpers/derived-fixture.ts';
import { gql, gqlData, testApi } from '../helpers/graphql.ts';
import { startTestServer } from '../helpers/tenant-fixture.ts';
import * as C from '../unit/analytics/connection-cases.ts';

const web = {
  interface_id: 'eni-web',
  instance_id: 'i-web',
  vpc_id: 'vpc-1',
  subnet_id: 'subnet-pub',
  az_id: 'use1-az1',
};
/**
 * i-web (10.0.5.5) serves two clients it cannot see the instance of:
 * - 203.0.113.50:51000 -> :443, 900 bytes in, 7,000 bytes back out through the internet gateway (traffic-path 8);
 * - a Route 53 health checker (pkt-src-aws-service ROUTE53) 54.243.31.192:52000 -> :80, 300 in, 400 back (path 8).
 * Both replies are internet bytes sent by the server: 7,400, which SENDER puts on i-web, not on the clients.
 */
const WEB: FixtureRecord[] = [
  rec({
    ...web,
    srcaddr: '203.0.113.50',
    dstaddr: '10.0.5.5',
    srcport: 51000,
    dstport: 443,
    flow_direction: 'ingress',
    tcp_flags: 2,
    bytes: 900,
    packets: 9,
    start: t('2024-03-01T15:00:00'),
  }),
  rec({
    ...web,
    srcaddr: '10.0.5.5',
    dstaddr: '203.0.113.50',
    srcport: 443,
    dstport: 51000,
    flow_direction: 'egress',
    traffic_path: 8,
    tcp_flags: 18,
    bytes: 7000,
    packets: 7,
    start: t('2024-03-01T15:00:00'),
  }),
  rec({
    ...web,
    srcaddr: '54.243.31.192',
    dstaddr: '10.0.5.5',
    srcport: 52000,
    dstport: 80,
    flow_direction: 'ingress',
    pkt_src_aws_service: 'ROUTE53',
    bytes: 300,
    packets: 3,
    start: t('2024-03-01T15:10:00'),
  }),
  rec({
    ...web,
    srcaddr: '10.0.5.5',
    dstaddr: '54.243.31.192',
    srcport: 80,
    dstport: 52000,
    flow_direction: 'egress',
    pkt_dst_aws_service: 'ROUTE53',
    traffic_path: 8,
    bytes: 400,
    packets: 4,
    start: t('2024-03-01T15:10:00'),
  }),
];

const DAY1 = '{ from: "2024-03-01T00:00:00Z", to: "2024-03-02T00:00:00Z" }';
const COST_FIELDS = [
  'bytes',
  'bytesToServer',
  'bytesToClient',
  'packets',
  'connections',
  'crossAzBytes',
  'crossRegionBytes',
  'natBytes',
  'internetBytes',
] as const;
const ORDERS: Record<string, (typeof COST_FIELDS)[number]> = {
  BYTES: 'bytes',
  CROSS_AZ_BYTES: 'crossAzBytes',
  CROSS_REGION_BYTES: 'crossRegionBytes',
  NAT_BYTES: 'natBytes',
  INTERNET_BYTES: 'internetBytes',
};

let root = '';
let api: Awaited<ReturnType<typeof testApi>>;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'flowql-analytics-cost-'));
  await writeDerivedFixtureWarehouse(root, [...Object.values(C).flat(), ...WEB]);
  api = await testApi(root);
});
afterAll(() => api?.db.closeSync());

const groupsQuery = (args: string, extra = '') => `{ trafficCost(filter: { timeRange: ${DAY1} }${args}) {
  ${COST_FIELDS.join(' ')}
  groups { truncated rows { sender { id kind } client { id } server { id } ${COST_FIELDS.join(' ')} ${extra} } } } }`;

/** Sender -> [bytes, crossAzBytes, natBytes] from the derived edge rows of 2024-03-01, by SQL written for this test. */
async function sentBySql(idOf: (side: string) => string): Promise<Map<string, [bigint, bigint, bigint]>> {
  const db = await DuckDBInstance.create(':memory:');
  try {
    const c = await db.connect();
    const rows = await c.runAndReadAll(`
      WITH e AS (SELECT * FROM read_parquet('${root}/edges/**/*.parquet', hive_partitioning = true)
                 WHERE bucket >= TIMESTAMP '2024-03-01' AND bucket < TIMESTAMP '2024-03-02'),
      sent AS (
        SELECT ${idOf('client')} AS sender, coalesce(bytes_to_server, 0) AS b, client_az_id <> server_az_id AS x, via_nat FROM e
        UNION ALL
        SELECT ${idOf('server')}, coalesce(bytes_to_client, 0), client_az_id <> server_az_id, via_nat FROM e)
      SELECT sender, sum(b)::BIGINT, coalesce(sum(b) FILTER (x), 0)::BIGINT, coalesce(sum(b) FILTER (via_nat), 0)::BIGINT
      FROM sent GROUP BY sender HAVING sum(b) > 0`);
    return new Map(rows.getRows().map((r) => [String(r[0]), [r[1], r[2], r[3]] as [bigint, bigint, bigint]]));
  } finally {
    db.closeSync();
  }
}

describe('trafficCost groupBy', () => {
  it('SENDER at INSTANCE: each direction on the end that sent it, internet replies on the server', async () => {
    const d: any = await gqlData(api.yoga, groupsQuery(', groupBy: SENDER, orderBy: INTERNET_BYTES, limit: 3'));
    const rows = d.trafficCost.groups.rows.map((g: any) => [g.sender.id, g.sender.kind, g.internetBytes, g.natBytes]);
    // i-web's replies (7,000 + 400) left through the internet gateway; i-app sent 1,000 through the NAT gateway to the
    // internet host, whose 5,000 back are NAT bytes of 203.0.113.5 but not internet bytes (they came in).
    expect(rows).toEqual([
      ['i-web', 'INSTANCE', '7400', '0'],
      ['i-app', 'INSTANCE', '1000', '1000'],
      ['198.51.100.7', 'EXTERNAL', '0', '0'], // ties on 0: by sender id as text (10.0.3.7 sent nothing: no group)
    ]);
    expect(d.trafficCost.groups.truncated).toBe(true);
    expect(d.trafficCost.internetBytes).toBe('8400');

    const az: any = await gqlData(api.yoga, groupsQuery(', groupBy: SENDER, orderBy: CROSS_AZ_BYTES, limit: 3'));
    // i-a -> i-b (use1-az1 -> use1-az2): i-b sent 50,060 back, i-a 10,060; i-c sent 333 + 111 to i-new and i-old in
    // use1-az2 (the 222 to 10.0.3.7 has no AZ on the far end, so it is not cross-AZ).
    expect(az.trafficCost.groups.rows.map((g: any) => [g.sender.id, g.crossAzBytes, g.bytes])).toEqual([
      ['i-b', '50060', '50060'],
      ['i-a', '10060', '10060'],
      ['i-c', '444', '666'],
    ]);
  });

  it('the groups add up to the totals, field by field, for every grouping and level', async () => {
    for (const groupBy of ['SENDER', 'PAIR']) {
      for (const level of ['INSTANCE', 'INTERFACE', 'SUBNET', 'VPC', 'ADDRESS']) {
        const d: any = await gqlData(api.yoga, groupsQuery(`, groupBy: ${groupBy}, level: ${level}, limit: 1000`));
        const { groups, ...totals } = d.trafficCost;
        expect(groups.truncated).toBe(false);
        const sums = Object.fromEntries(
          COST_FIELDS.map((f) => [f, String(groups.rows.reduce((s: bigint, g: any) => s + BigInt(g[f]), 0n))]),
        );
        expect(sums, `${groupBy} ${level}`).toEqual(totals);
      }
    }
  });

  it('SENDER groups equal SQL over the derived edges files, at INSTANCE and SUBNET level', async () => {
    const cases: [string, (side: string) => string][] = [
      ['INSTANCE', (s) => `coalesce(${s}_instance_id, ${s}_interface_id, ${s}_addr)`],
      ['SUBNET', (s) => `coalesce(${s}_subnet_id, ${s}_addr)`],
    ];
    for (const [level, idOf] of cases) {
      const d: any = await gqlData(api.yoga, groupsQuery(`, groupBy: SENDER, level: ${level}, limit: 1000`));
      const answered = new Map(
        d.trafficCost.groups.rows
          .filter((g: any) => g.bytes !== '0')
          .map((g: any) => [g.sender.id, [BigInt(g.bytes), BigInt(g.crossAzBytes), BigInt(g.natBytes)]]),
      );
      expect(answered, level).toEqual(await sentBySql(idOf));
    }
  });

  it('PAIR at INSTANCE equals trafficEdges summed per client and server', async () => {
    const pairs: any = await gqlData(api.yoga, groupsQuery(', groupBy: PAIR, limit: 1000'));
    const edges: any = await gqlData(
      api.yoga,
      `{ trafficEdges(filter: { timeRange: ${DAY1} }, first: 1000) { nodes { client { id } server { id }
         bytesToServer bytesToClient crossAzBytes natBytes internetBytes connections } } }`,
    );
    const fromEdges = new Map<string, bigint[]>();
    for (const e of edges.trafficEdges.nodes) {
      const key = `${e.client.id}>${e.server.id}`;
      const v = [e.bytesToServer, e.bytesToClient, e.crossAzBytes, e.natBytes, e.internetBytes, e.connections];
      const sum = fromEdges.get(key) ?? v.map(() => 0n);
      fromEdges.set(
        key,
        sum.map((s, i) => s + BigInt(v[i])),
      );
    }
    const fromPairs = new Map(
      pairs.trafficCost.groups.rows.map((g: any) => [
        `${g.client.id}>${g.server.id}`,
        [g.bytesToServer, g.bytesToClient, g.crossAzBytes, g.natBytes, g.internetBytes, g.connections].map(BigInt),
      ]),
    );
    expect(fromPairs).toEqual(fromEdges);
    expect(pairs.trafficCost.groups.rows[0].sender).toBeNull();
    // The NAT path as a pair: both directions (1,000 + 5,000) on the instance's pair with the internet host.
    const nat = pairs.trafficCost.groups.rows.find((g: any) => g.client.id === 'i-app');
    expect([nat.server.id, nat.natBytes, nat.internetBytes]).toEqual(['203.0.113.5', '6000', '1000']);
  });

  it('orders by each key, largest first, ties by the group ids', async () => {
    for (const [order, field] of Object.entries(ORDERS)) {
      for (const groupBy of ['SENDER', 'PAIR']) {
        const d: any = await gqlData(api.yoga, groupsQuery(`, groupBy: ${groupBy}, orderBy: ${order}, limit: 1000`));
        const keys = d.trafficCost.groups.rows.map((g: any) => ({
          v: BigInt(g[field]),
          id: groupBy === 'SENDER' ? [g.sender.id] : [g.client.id, g.server.id],
        }));
        const sorted = [...keys].sort(
          (a, b) =>
            Number(b.v - a.v) ||
            (a.id[0] < b.id[0] ? -1 : a.id[0] > b.id[0] ? 1 : 0) ||
            (a.id[1] < b.id[1] ? -1 : a.id[1] > b.id[1] ? 1 : 0),
        );
        expect(keys, `${groupBy} ${order}`).toEqual(sorted);
        expect(keys.length).toBeGreaterThan(3);
      }
    }
  });

  it('answers as before without groupBy, and refuses orderBy, level and limit without it', async () => {
    const d: any = await gqlData(
      api.yoga,
      `{ trafficCost(filter: { timeRange: ${DAY1} }) { bytes groups { truncated } } }`,
    );
    expect(d.trafficCost.groups).toBeNull();
    for (const arg of ['orderBy: NAT_BYTES', 'level: VPC', 'limit: 5']) {
      const res = await gql(api.yoga, `{ trafficCost(filter: { timeRange: ${DAY1} }, ${arg}) { bytes } }`);
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: arg.split(':')[0] });
    }
    const tooMany = await gql(
      api.yoga,
      `{ trafficCost(filter: { timeRange: ${DAY1} }, groupBy: PAIR, limit: 0) { bytes } }`,
    );
    expect(tooMany.errors?.[0]?.message).toBe('Invalid limit: expected an integer from 1 to 1000, found 0');
  });

  it('an empty window has no groups', async () => {
    const d: any = await gqlData(
      api.yoga,
      `{ trafficCost(filter: { timeRange: { from: "2030-01-01T00:00:00Z", to: "2030-01-02T00:00:00Z" } }, groupBy: SENDER) {
         bytes groups { truncated rows { bytes } } } }`,
    );
    expect(d.trafficCost).toEqual({ bytes: '0', groups: { truncated: false, rows: [] } });
  });
});

describe('trafficEdges ordered by the cost lens', () => {
  it('ranks by each cost field, largest first, ties by client, server, protocol, port', async () => {
    const expectedFirst: Record<string, [string, string, string]> = {
      CROSS_AZ_BYTES: ['i-a', 'i-b', '60120'],
      NAT_BYTES: ['i-app', '203.0.113.5', '6000'],
      INTERNET_BYTES: ['203.0.113.50', 'i-web', '7000'],
    };
    for (const [order, field] of Object.entries(ORDERS)) {
      if (order === 'BYTES') continue;
      const d: any = await gqlData(
        api.yoga,
        `{ trafficEdges(filter: { timeRange: ${DAY1} }, orderBy: ${order}, first: 1000) { nodes {
           client { id } server { id } protocol serverPort ${field} } } }`,
      );
      const nodes = d.trafficEdges.nodes.map((e: any) => ({
        v: BigInt(e[field]),
        k: [e.client.id, e.server.id, e.protocol, e.serverPort ?? -1],
      }));
      const cmp = (a: unknown, b: unknown) => (a! < b! ? -1 : a! > b! ? 1 : 0);
      const sorted = [...nodes].sort(
        (a, b) => Number(b.v - a.v) || a.k.reduce((r: number, x: unknown, i: number) => r || cmp(x, b.k[i]), 0),
      );
      expect(nodes, order).toEqual(sorted);
      const first = d.trafficEdges.nodes[0];
      if (expectedFirst[order]) expect([first.client.id, first.server.id, first[field]]).toEqual(expectedFirst[order]);
    }
  });
});

describe('/datasets/cost', () => {
  it('holds the groups GraphQL answers, in the same order, for both groupings', async () => {
    const { server } = await startTestServer({ dataDir: root });
    try {
      for (const [groupBy, ids] of [
        ['SENDER', (g: any) => [g.sender.id]],
        ['PAIR', (g: any) => [g.client.id, g.server.id]],
      ] as const) {
        const d: any = await gqlData(api.yoga, groupsQuery(`, groupBy: ${groupBy}, orderBy: NAT_BYTES, limit: 4`));
        const url = `${server.url}/datasets/cost.json?from=2024-03-01&to=2024-03-02&groupBy=${groupBy.toLowerCase()}&orderBy=nat_bytes&limit=4`;
        const res = await fetch(url);
        expect(res.status).toBe(200);
        const rows = (await res.json()) as Record<string, unknown>[];
        const key = groupBy === 'SENDER' ? ['sender_id'] : ['client_id', 'server_id'];
        expect(rows.map((r) => [...key.map((k) => r[k]), String(r.nat_bytes), String(r.bytes)])).toEqual(
          d.trafficCost.groups.rows.map((g: any) => [...ids(g), g.natBytes, g.bytes]),
        );
      }
      const bad = await fetch(`${server.url}/datasets/cost.csv?from=2024-03-01&to=2024-03-02&orderBy=records`);
      expect([bad.status, (await bad.text()).includes('Invalid orderBy')]).toEqual([400, true]);
    } finally {
      await server.close();
    }
  });
});
