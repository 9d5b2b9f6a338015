// Issue 16: a connection between two accounts is one connection. i-A (account A, use1-az1) opens one TCP connection
// to i-B (account B, use1-az2); both ends log it (egress at A, ingress at B, and the replies). Organisation-wide (no
// key, or a key allowed both accounts) it is one handshake and one edge with both ends resolved, its bytes counted
// once and its cross-AZ bytes known; a key allowed only A sees what A's records show: its own end resolved, B's end as
// an address. Real DuckDB over real Parquet; the warehouse is derived as the ingester derives it.
/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies are compared with literal values */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rec, t, type FixtureRecord } from '../helpers/analytics-fixture.ts';
import { writeDerivedFixtureWarehouse } from '../helpers/derived-fixture.ts';
import { gqlData, testApi } from '../helpers/graphql.ts';
import { startTestServer } from '../helpers/tenant-fixture.ts';
import type { Manifest } from '../../src/store/layout.ts';

const A = '111111111111';
const B = '222222222222';
const C = '333333333333';
const endA = {
  account_id: A,
  interface_id: 'eni-a',
  instance_id: 'i-a',
  vpc_id: 'vpc-a',
  subnet_id: 'subnet-a',
  az_id: 'use1-az1',
};
const endB = {
  account_id: B,
  interface_id: 'eni-b',
  instance_id: 'i-b',
  vpc_id: 'vpc-b',
  subnet_id: 'subnet-b',
  az_id: 'use1-az2',
};
const at = t('2024-03-01T10:00:00');
const c2s = { srcaddr: '10.0.1.10', dstaddr: '10.1.2.20', srcport: 40000, dstport: 443 };
const s2c = { srcaddr: '10.1.2.20', dstaddr: '10.0.1.10', srcport: 443, dstport: 40000 };

/** Each end logs both directions of the one connection: 1000 bytes client -> server, 20000 back. */
const CROSS_ACCOUNT: FixtureRecord[] = [
  rec({ ...endA, ...c2s, tcp_flags: 2, flow_direction: 'egress', bytes: 1000, packets: 10, start: at }),
  rec({ ...endA, ...s2c, tcp_flags: 18, flow_direction: 'ingress', bytes: 20000, packets: 20, start: at }),
  rec({ ...endB, ...c2s, tcp_flags: 2, flow_direction: 'ingress', bytes: 1000, packets: 10, start: at }),
  rec({ ...endB, ...s2c, tcp_flags: 18, flow_direction: 'egress', bytes: 20000, packets: 20, start: at }),
];

/** A third account in the region, talking only to itself: a key allowed A and B does not select every account. */
const endC = {
  account_id: C,
  interface_id: 'eni-c',
  instance_id: 'i-c',
  vpc_id: 'vpc-c',
  subnet_id: 'subnet-c',
  az_id: 'use1-az1',
};
const OTHER: FixtureRecord[] = [
  rec({
    ...endC,
    srcaddr: '10.2.0.5',
    dstaddr: '10.2.0.6',
    srcport: 50000,
    dstport: 22,
    tcp_flags: 2,
    flow_direction: 'egress',
    bytes: 300,
    start: at,
  }),
];

const window = 'timeRange: { from: "2024-03-01T00:00:00Z", to: "2024-03-02T00:00:00Z" }';
const EDGES = `{ trafficEdges(filter: { ${window} }, level: INSTANCE) { nodes { client { kind id azId } server { kind id azId } bytesToServer bytesToClient connections crossAzBytes } } }`;
const COST = `{ trafficCost(filter: { ${window} }) { bytes crossAzBytes } }`;
const HANDSHAKES = `{ handshakes(filter: { ${window} }) { nodes { state clientAddr serverAddr client { id } server { id } } } }`;

describe('organisation-wide connections', () => {
  let root: string;
  let api: Awaited<ReturnType<typeof testApi>>;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'flowql-org-'));
    await writeDerivedFixtureWarehouse(root, CROSS_ACCOUNT);
    api = await testApi(root);
  });
  afterAll(() => api?.db.closeSync());

  it('derives org tables for the region where two accounts log, partitioned by region and date only', async () => {
    const manifest = JSON.parse(await readFile(join(root, '_flowql/manifest.json'), 'utf8')) as Manifest;
    const org = manifest.files.filter((f) => f.table.startsWith('org_')).map((f) => f.path.replace(/part-.*$/, ''));
    expect(org.sort()).toEqual([
      'org_edges/region=us-east-1/date=2024-03-01/',
      'org_handshakes/region=us-east-1/date=2024-03-01/',
    ]);
  });

  it('without a key: one edge, both ends resolved, bytes once, cross-AZ by AZ id', async () => {
    const d: any = await gqlData(api.yoga, EDGES);
    expect(d.trafficEdges.nodes).toEqual([
      {
        client: { kind: 'INSTANCE', id: 'i-a', azId: 'use1-az1' },
        server: { kind: 'INSTANCE', id: 'i-b', azId: 'use1-az2' },
        bytesToServer: '1000',
        bytesToClient: '20000',
        connections: '1',
        crossAzBytes: '21000',
      },
    ]);
    expect((await gqlData<any>(api.yoga, COST)).trafficCost).toEqual({ bytes: '21000', crossAzBytes: '21000' });
    const hs: any = await gqlData(api.yoga, HANDSHAKES);
    expect(hs.handshakes.nodes).toEqual([
      {
        state: 'ESTABLISHED',
        clientAddr: '10.0.1.10',
        serverAddr: '10.1.2.20',
        client: { id: 'i-a' },
        server: { id: 'i-b' },
      },
    ]);
  });

  it('ACCOUNT level: who sends how much to whom across accounts, each end carrying its account', async () => {
    const q = `{ trafficEdges(filter: { ${window} }, level: ACCOUNT) { nodes { client { id accountId } server { id accountId } bytesToServer bytesToClient } }
      trafficCost(filter: { ${window} }, groupBy: SENDER, level: ACCOUNT) { groups { rows { sender { id } bytes crossAzBytes } } } }`;
    const d: any = await gqlData(api.yoga, q);
    expect(d.trafficEdges.nodes).toEqual([
      {
        client: { id: A, accountId: A },
        server: { id: B, accountId: B },
        bytesToServer: '1000',
        bytesToClient: '20000',
      },
    ]);
    expect(d.trafficCost.groups.rows).toEqual([
      { sender: { id: B }, bytes: '20000', crossAzBytes: '20000' },
      { sender: { id: A }, bytes: '1000', crossAzBytes: '1000' },
    ]);
  });

  it("one account selected: what that account's records show, the other end as its address only", async () => {
    const q = (accounts: string[]) =>
      `{ trafficEdges(filter: { ${window}, accountIds: ${JSON.stringify(accounts)} }, level: INSTANCE) { nodes { client { id } server { id } bytesToServer bytesToClient } } }`;
    expect((await gqlData<any>(api.yoga, q([A]))).trafficEdges.nodes).toEqual([
      { client: { id: 'i-a' }, server: { id: '10.1.2.20' }, bytesToServer: '1000', bytesToClient: '20000' },
    ]);
    expect((await gqlData<any>(api.yoga, q([B]))).trafficEdges.nodes).toEqual([
      { client: { id: '10.0.1.10' }, server: { id: 'i-b' }, bytesToServer: '1000', bytesToClient: '20000' },
    ]);
    // Both accounts named: every account of the region, so the organisation-wide answer.
    expect((await gqlData<any>(api.yoga, q([A, B]))).trafficEdges.nodes).toEqual([
      { client: { id: 'i-a' }, server: { id: 'i-b' }, bytesToServer: '1000', bytesToClient: '20000' },
    ]);
  });

  it('a third account in the region: two of three accounts are paired at query time from their records only', async () => {
    const root3 = await mkdtemp(join(tmpdir(), 'flowql-org3-'));
    await writeDerivedFixtureWarehouse(root3, [...CROSS_ACCOUNT, ...OTHER]);
    const api3 = await testApi(root3);
    try {
      const q = (filter: string) =>
        `{ trafficEdges(filter: { ${window}${filter} }, level: INSTANCE) { nodes { client { id } server { id } bytesToServer } } }`;
      const ab = await gqlData<any>(api3.yoga, q(`, accountIds: ["${A}", "${B}"]`));
      expect(ab.trafficEdges.nodes).toEqual([{ client: { id: 'i-a' }, server: { id: 'i-b' }, bytesToServer: '1000' }]);
      const all = await gqlData<any>(api3.yoga, q(''));
      expect(all.trafficEdges.nodes.map((n: any) => `${n.client.id}->${n.server.id}`).sort()).toEqual([
        'i-a->i-b',
        'i-c->10.2.0.6',
      ]);
    } finally {
      api3.db.closeSync();
    }
  });

  it('API keys: a key allowed A and B gets the organisation-wide answer, a key allowed A only its own, in GraphQL and the edges dataset', async () => {
    const keysFile = join(root, 'keys.json');
    const keys = { a: 'org-test-key-a-0000000001', ab: 'org-test-key-ab-000000002' };
    await writeFile(
      keysFile,
      JSON.stringify({
        keys: [
          { key: keys.a, accounts: [A], name: 'a' },
          { key: keys.ab, accounts: [A, B], name: 'ab' },
        ],
      }),
    );
    const { server } = await startTestServer({ dataDir: root, apiKeysFile: keysFile });
    try {
      const edges = async (key: string) => {
        const res = await fetch(`${server.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
          body: JSON.stringify({
            query: `{ trafficEdges(filter: { ${window} }, level: INSTANCE) { nodes { client { id } server { id } } } trafficCost(filter: { ${window} }) { bytes crossAzBytes } }`,
          }),
        });
        const body: any = await res.json();
        scanned = body.extensions.cost.filesScanned;
        return body.data;
      };
      let scanned = 0;
      expect(await edges(keys.ab)).toEqual({
        trafficEdges: { nodes: [{ client: { id: 'i-a' }, server: { id: 'i-b' } }] },
        trafficCost: { bytes: '21000', crossAzBytes: '21000' },
      });
      // From the org tables (one org_edges file per question), not by pairing both accounts' records at query time.
      expect(scanned).toBe(1);
      // A's records only: B's end is an address, and A's records do not say which AZ it is in.
      expect(await edges(keys.a)).toEqual({
        trafficEdges: { nodes: [{ client: { id: 'i-a' }, server: { id: '10.1.2.20' } }] },
        trafficCost: { bytes: '21000', crossAzBytes: '0' },
      });
      const csv = async (key: string) =>
        (
          await fetch(`${server.url}/datasets/edges.csv?from=2024-03-01&to=2024-03-02`, {
            headers: { authorization: `Bearer ${key}` },
          })
        ).text();
      const idsOf = (text: string) => {
        const [head, ...rows] = text.trim().split('\n');
        const cols = head!.split(',');
        return rows.map((r) => {
          const v = r.split(',');
          return `${v[cols.indexOf('client_id')]}->${v[cols.indexOf('server_id')]}`;
        });
      };
      expect(idsOf(await csv(keys.ab))).toEqual(['i-a->i-b']);
      expect(idsOf(await csv(keys.a))).toEqual(['i-a->10.1.2.20']);

      // Every connection question and dataset, as a key allowed A only: no identifier that exists only in B's records.
      const onlyB = ['i-b', 'eni-b', 'subnet-b', 'vpc-b', 'use1-az2', B];
      const questions = [
        `{ handshakes(filter: { ${window} }) { nodes { client { id interfaceId subnetId vpcId azId accountId } server { id interfaceId subnetId vpcId azId accountId } observedAt } } }`,
        `{ scans(filter: { ${window} }, minPorts: 1, minHosts: 1) { nodes { sourceAddr sourceInstanceId } } }`,
        ...['INSTANCE', 'INTERFACE', 'SUBNET', 'VPC', 'ACCOUNT', 'ADDRESS'].map(
          (level) =>
            `{ trafficEdges(filter: { ${window} }, level: ${level}) { nodes { client { id instanceId interfaceId subnetId vpcId azId accountId } server { id instanceId interfaceId subnetId vpcId azId accountId } observedAt } } }`,
        ),
        `{ edgeGraph(filter: { ${window} }, level: SUBNET) { nodes { id title subTitle mainStat } edges { source target } } }`,
        `{ edgeDiff(filter: {}, before: { from: "2024-02-29T00:00:00Z", to: "2024-03-01T00:00:00Z" }, after: { from: "2024-03-01T00:00:00Z", to: "2024-03-02T00:00:00Z" }) { rows { clientId serverId } } }`,
        `{ trafficCost(filter: { ${window} }, groupBy: PAIR, level: ACCOUNT) { groups { rows { client { id accountId } server { id accountId } } } } }`,
      ];
      for (const query of questions) {
        const res = await fetch(`${server.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${keys.a}` },
          body: JSON.stringify({ query }),
        });
        const text = await res.text();
        expect(JSON.parse(text).errors, `${query}: ${text}`).toBeUndefined();
        expect(
          onlyB.filter((id) => text.includes(id)),
          query,
        ).toEqual([]);
      }
      for (const dataset of ['handshakes', 'edges', 'cost']) {
        for (const level of ['INSTANCE', 'ACCOUNT']) {
          const url = `${server.url}/datasets/${dataset}.json?from=2024-03-01&to=2024-03-02${dataset === 'handshakes' ? '' : `&level=${level}`}`;
          const res = await fetch(url, { headers: { authorization: `Bearer ${keys.a}` } });
          const text = await res.text();
          expect(res.status, text).toBe(200);
          expect(
            onlyB.filter((id) => text.includes(id)),
            url,
          ).toEqual([]);
        }
      }
    } finally {
      await server.close();
    }
  });
});
