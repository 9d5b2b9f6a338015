// Connection analytics through GraphQL (yoga.fetch): handshakes, scans, trafficEdges, trafficCost, edgeGraph,
// edgeDiff and the Flow direction fields, over a fixture warehouse derived as the ingester does.
// Fixture: every docs/semantics.md §7 case of test/unit/analytics/connection-cases.ts (their numbers are explained
// there), plus SCAN and DNS/NTP records below.
/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies are compared with literal values by toEqual */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { rec, t, type FixtureRecord } from '../helpers/analytics-fixture.ts';
import { writeDerivedFixtureWarehouse } from '../helpers/derived-fixture.ts';
import { gql, gqlData, testApi } from '../helpers/graphql.ts';
import * as C from '../unit/analytics/connection-cases.ts';

const srv = {
  interface_id: 'eni-srv',
  instance_id: 'i-srv',
  vpc_id: 'vpc-1',
  subnet_id: 'subnet-a',
  az_id: 'use1-az1',
};
/** 198.51.100.99 probes 10.0.0.5 on ports 1000-1005 and 10.0.0.62 on 22 at 12:00, each SYN rejected: 7 targets, 2 hosts. */
const SCAN: FixtureRecord[] = [
  ...[1000, 1001, 1002, 1003, 1004, 1005].map((port, i) =>
    rec({
      ...srv,
      srcaddr: '198.51.100.99',
      dstaddr: '10.0.0.5',
      srcport: 50001 + i,
      dstport: port,
      flow_direction: 'ingress',
      tcp_flags: 2,
      action: 'REJECT',
      bytes: 40,
      packets: 1,
      start: t('2024-03-01T12:00:00'),
    }),
  ),
  rec({
    interface_id: 'eni-62',
    instance_id: 'i-62',
    vpc_id: 'vpc-1',
    subnet_id: 'subnet-a',
    az_id: 'use1-az1',
    version: 3,
    srcaddr: '198.51.100.99',
    dstaddr: '10.0.0.62',
    srcport: 50007,
    dstport: 22,
    tcp_flags: 2,
    action: 'REJECT',
    bytes: 40,
    packets: 1,
    start: t('2024-03-01T12:00:00'),
  }),
];
/** UDP at i-srv: a DNS query 53000 -> 53 and its reply (PORT decides), and NTP 123 <-> 123 (UNKNOWN). */
const UDP: FixtureRecord[] = [
  rec({
    ...srv,
    protocol: 17,
    srcaddr: '10.0.0.5',
    dstaddr: '10.0.0.2',
    srcport: 53000,
    dstport: 53,
    flow_direction: 'egress',
    bytes: 70,
    start: t('2024-03-01T13:00:00'),
  }),
  rec({
    ...srv,
    protocol: 17,
    srcaddr: '10.0.0.2',
    dstaddr: '10.0.0.5',
    srcport: 53,
    dstport: 53000,
    flow_direction: 'ingress',
    bytes: 130,
    start: t('2024-03-01T13:00:00'),
  }),
  rec({
    ...srv,
    protocol: 17,
    srcaddr: '10.0.0.5',
    dstaddr: '169.254.1.1',
    srcport: 123,
    dstport: 123,
    flow_direction: 'egress',
    bytes: 76,
    start: t('2024-03-01T13:00:01'),
  }),
];

const DAY1 = '{ from: "2024-03-01T00:00:00Z", to: "2024-03-02T00:00:00Z" }';

describe('connection analytics over GraphQL', () => {
  let api: Awaited<ReturnType<typeof testApi>>;
  beforeAll(async () => {
    const root = await mkdtemp(join(tmpdir(), 'flowql-analytics-gql-'));
    await writeDerivedFixtureWarehouse(root, [...Object.values(C).flat(), ...SCAN, ...UDP]);
    api = await testApi(root);
  });

  it('pages handshakes by cursor, oldest first, and filters by state', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page++) {
      const d: any = await gqlData(
        api.yoga,
        `query($after: String) { handshakes(filter: { timeRange: ${DAY1} }, first: 4, after: $after) {
          edges { cursor node { clientAddr clientPort serverPort state closed } } pageInfo { hasNextPage endCursor } } }`,
        { after },
      );
      seen.push(
        ...d.handshakes.edges.map(
          (e: any) =>
            `${e.node.clientAddr}:${e.node.clientPort}>${e.node.serverPort} ${e.node.state}${e.node.closed ? ' closed' : ''}`,
        ),
      );
      if (!d.handshakes.pageInfo.hasNextPage) break;
      after = d.handshakes.pageInfo.endCursor;
    }
    // Oldest first; four start at 10:00:00 and are ordered by client address as text; 43416 saw FIN at 10:02.
    expect(seen).toEqual([
      '10.0.1.10:51000>5432 ESTABLISHED',
      '10.0.1.5:40001>443 ESTABLISHED',
      '198.51.100.7:62897>22 ESTABLISHED',
      '52.213.180.42:43416>5001 ESTABLISHED closed',
      '52.213.180.42:43418>5001 ESTABLISHED closed',
      '10.0.0.5:45000>8443 UNANSWERED',
      '203.0.113.9:50000>3389 REJECTED',
      '198.51.100.99:50001>1000 REJECTED',
      '198.51.100.99:50002>1001 REJECTED',
      '198.51.100.99:50003>1002 REJECTED',
      '198.51.100.99:50004>1003 REJECTED',
      '198.51.100.99:50005>1004 REJECTED',
      '198.51.100.99:50006>1005 REJECTED',
      '198.51.100.99:50007>22 REJECTED',
      '198.51.100.8:60000>443 ESTABLISHED', // SYN at 23:59:30, SYN-ACK after midnight in the next partition
    ]);
    const failed: any = await gqlData(
      api.yoga,
      `{ handshakes(filter: { timeRange: ${DAY1}, port: [{ from: 3000, to: 9000 }] }, states: [REJECTED, UNANSWERED]) { nodes { serverPort state } } }`,
    );
    expect(failed.handshakes.nodes).toEqual([
      { serverPort: 8443, state: 'UNANSWERED' },
      { serverPort: 3389, state: 'REJECTED' },
    ]);
  });

  it('shows a connection between two monitored instances once, observed at both interfaces', async () => {
    const d: any = await gqlData(
      api.yoga,
      `{ handshakes(filter: { timeRange: ${DAY1}, addr: ["10.0.2.20"] }) { nodes {
          clientAddr serverAddr serverPort start observedAt
          client { id kind instanceId interfaceId subnetId azId } server { id kind instanceId interfaceId subnetId azId } } } }`,
    );
    expect(d.handshakes.nodes).toEqual([
      {
        clientAddr: '10.0.1.10',
        serverAddr: '10.0.2.20',
        serverPort: 5432,
        start: '2024-03-01T10:00:00.000Z',
        observedAt: ['eni-a', 'eni-b'],
        client: {
          id: 'i-a',
          kind: 'INSTANCE',
          instanceId: 'i-a',
          interfaceId: 'eni-a',
          subnetId: 'subnet-a',
          azId: 'use1-az1',
        },
        server: {
          id: 'i-b',
          kind: 'INSTANCE',
          instanceId: 'i-b',
          interfaceId: 'eni-b',
          subnetId: 'subnet-b',
          azId: 'use1-az2',
        },
      },
    ]);
  });

  it('lists scanning sources with their counts, most failed targets first', async () => {
    const q = (minPorts: number, minHosts: number) =>
      `{ scans(filter: { timeRange: ${DAY1} }, minPorts: ${minPorts}, minHosts: ${minHosts}) { truncated
         nodes { sourceAddr sourceKind syns rejected unanswered failedPorts failedHosts failedTargets firstSeen } } }`;
    const all: any = await gqlData(api.yoga, q(1, 1));
    expect(
      all.scans.nodes.map((n: any) => [
        n.sourceAddr,
        n.sourceKind,
        n.syns,
        n.rejected,
        n.unanswered,
        n.failedPorts,
        n.failedHosts,
        n.failedTargets,
      ]),
    ).toEqual([
      ['198.51.100.99', 'EXTERNAL', '7', '7', '0', 7, 2, 7],
      ['10.0.0.5', 'INSTANCE', '1', '0', '1', 1, 1, 1], // ties on 1 target: by address as text
      ['203.0.113.9', 'EXTERNAL', '1', '1', '0', 1, 1, 1],
    ]);
    const scanners: any = await gqlData(api.yoga, q(5, 100));
    expect(scanners.scans).toEqual({
      truncated: false,
      nodes: [
        {
          sourceAddr: '198.51.100.99',
          sourceKind: 'EXTERNAL',
          syns: '7',
          rejected: '7',
          unanswered: '0',
          failedPorts: 7,
          failedHosts: 2,
          failedTargets: 7,
          firstSeen: '2024-03-01T12:00:00.000Z',
        },
      ],
    });
    expect((await gqlData<any>(api.yoga, q(8, 3))).scans.nodes).toEqual([]);
  });
  it('ranks edges at INSTANCE level with bytes once per direction, and pages them', async () => {
    const edgeFields = `client { id kind ip } server { id kind instanceId } protocol serverPort bytesToServer bytesToClient
      packetsToServer packetsToClient connections records rejectedRecords directionMethod crossAzBytes natBytes internetBytes observedAt`;
    const first: any = await gqlData(
      api.yoga,
      `{ trafficEdges(filter: { timeRange: ${DAY1} }, first: 2) { nodes { ${edgeFields} } pageInfo { hasNextPage endCursor } } }`,
    );
    expect(first.trafficEdges.nodes).toEqual([
      {
        // AWS's flag sequence at one interface: to the server 568 + 100701 + 52 + 300, to the client 376 + 869 + 40 + 200.
        client: { id: '52.213.180.42', kind: 'EXTERNAL', ip: '52.213.180.42' },
        server: { id: 'i-62', kind: 'INSTANCE', instanceId: 'i-62' },
        protocol: 6,
        serverPort: 5001,
        bytesToServer: '101621',
        bytesToClient: '1485',
        packetsToServer: '84',
        packetsToClient: '80',
        connections: '2',
        records: '8',
        rejectedRecords: '0',
        directionMethod: 'HANDSHAKE',
        crossAzBytes: '0',
        natBytes: '0',
        internetBytes: '0',
        observedAt: ['eni-62'],
      },
      {
        // Logged at both interfaces (8 records, naive sum 120240): 60 + 10000 to the server, 60 + 50000 back, once.
        client: { id: 'i-a', kind: 'INSTANCE', ip: '10.0.1.10' },
        server: { id: 'i-b', kind: 'INSTANCE', instanceId: 'i-b' },
        protocol: 6,
        serverPort: 5432,
        bytesToServer: '10060',
        bytesToClient: '50060',
        packetsToServer: '11',
        packetsToClient: '41',
        connections: '1',
        records: '8',
        rejectedRecords: '0',
        directionMethod: 'HANDSHAKE',
        crossAzBytes: '60120',
        natBytes: '0',
        internetBytes: '0',
        observedAt: ['eni-a', 'eni-b'],
      },
    ]);
    expect(first.trafficEdges.pageInfo.hasNextPage).toBe(true);
    const second: any = await gqlData(
      api.yoga,
      `query($after: String) { trafficEdges(filter: { timeRange: ${DAY1} }, first: 2, after: $after) { nodes { ${edgeFields} } pageInfo { hasNextPage } } }`,
      { after: first.trafficEdges.pageInfo.endCursor },
    );
    // The NAT path is the instance's edge to the internet host (NAT legs confirm, never add): 1000 out, 5000 back.
    expect(
      second.trafficEdges.nodes.map((e: any) => [
        e.client.id,
        e.server.id,
        e.serverPort,
        e.bytesToServer,
        e.bytesToClient,
        e.records,
        e.natBytes,
        e.internetBytes,
        e.observedAt,
      ]),
    ).toEqual([
      ['198.51.100.7', 'i-srv', 22, '4000', '8000', '2', '0', '0', ['eni-srv']],
      ['i-app', '203.0.113.5', 443, '1000', '5000', '4', '6000', '1000', ['eni-app', 'eni-nat']],
    ]);
    expect(second.trafficEdges.pageInfo.hasNextPage).toBe(true);
  });

  it('computes only the selected edge fields (ids and two measures) and gives the same page as a full selection', async () => {
    // Ordered by records: the page computes the order's measure even though it is not selected.
    const lean: any = await gqlData(
      api.yoga,
      `{ trafficEdges(filter: { timeRange: ${DAY1} }, orderBy: RECORDS, first: 4) { edges { node { ...E } } } }
       fragment E on TrafficEdge { client { id } server { id __typename } protocol serverPort bytes connections }`,
    );
    const full: any = await gqlData(
      api.yoga,
      `{ trafficEdges(filter: { timeRange: ${DAY1} }, orderBy: RECORDS, first: 4) {
           nodes { client { id kind } server { id } protocol serverPort bytes connections records observedAt } } }`,
    );
    const rows = (nodes: any[]) =>
      nodes.map((e) => [e.client.id, e.server.id, e.protocol, e.serverPort, e.bytes, e.connections]);
    expect(rows(lean.trafficEdges.edges.map((e: any) => e.node))).toEqual(rows(full.trafficEdges.nodes));
    expect(rows(full.trafficEdges.nodes)).toEqual([
      ['52.213.180.42', 'i-62', 6, 5001, '103106', '2'],
      ['i-a', 'i-b', 6, 5432, '60120', '1'],
      ['i-app', '203.0.113.5', 6, 443, '6000', '1'],
      ['198.51.100.7', 'i-srv', 6, 22, '12000', '1'],
    ]);
  });

  it('aggregates edges at SUBNET level and resolves a reused address by time', async () => {
    const q = (
      level: string,
    ) => `{ trafficEdges(filter: { timeRange: ${DAY1}, srcAddr: ["10.0.1.1"] }, level: ${level}) {
      nodes { client { id } server { id kind instanceId } serverPort bytesToServer records directionMethod } } }`;
    // 10.0.3.7 is i-old at 08:05 (111 bytes), nobody at 11:00 (222), i-new at 14:05 (333); both owners in subnet-b.
    const instances: any = await gqlData(api.yoga, q('INSTANCE'));
    expect(
      instances.trafficEdges.nodes.map((e: any) => [e.client.id, e.server.id, e.server.kind, e.bytesToServer]),
    ).toEqual([
      ['i-c', 'i-new', 'INSTANCE', '333'],
      ['i-c', '10.0.3.7', 'EXTERNAL', '222'],
      ['i-c', 'i-old', 'INSTANCE', '111'],
    ]);
    const subnets: any = await gqlData(api.yoga, q('SUBNET'));
    expect(subnets.trafficEdges.nodes).toEqual([
      // Two instances in one subnet: the instance id differs, so it is null; bytes add up (111 + 333).
      {
        client: { id: 'subnet-a' },
        server: { id: 'subnet-b', kind: 'INSTANCE', instanceId: null },
        serverPort: 80,
        bytesToServer: '444',
        records: '2',
        directionMethod: 'PORT',
      },
      {
        client: { id: 'subnet-a' },
        server: { id: '10.0.3.7', kind: 'EXTERNAL', instanceId: null },
        serverPort: 80,
        bytesToServer: '222',
        records: '1',
        directionMethod: 'PORT',
      },
    ]);
  });

  it('totals the cost lens over the window (trafficCost)', async () => {
    const d: any = await gqlData(
      api.yoga,
      `{ trafficCost(filter: { timeRange: ${DAY1} }) { bytes crossAzBytes crossRegionBytes natBytes internetBytes records connections } }`,
    );
    // bytes: every edge once (103106 + 60120 + 12000 + 6000 + 333 + 222 + 200 + 111 + 100 + 100 + 76 + 60 + 60 + 8 x 40);
    // cross-AZ: i-a -> i-b 60120 + i-c -> i-new 333 + i-c -> i-old 111. Records: 43 in the fixture, minus the 2 NAT
    // outside legs and the SYN-ACK logged on 2024-03-02.
    expect(d.trafficCost).toEqual({
      bytes: '182808',
      crossAzBytes: '60564',
      crossRegionBytes: '0',
      natBytes: '6000',
      internetBytes: '1000',
      records: '40',
      connections: '15',
    });
  });

  it('shapes the node graph and says when edges were cut', async () => {
    const q = (max: number) => `{ edgeGraph(filter: { timeRange: ${DAY1} }, maxEdges: ${max}) { truncated
      nodes { id title subTitle mainStat arc__instance arc__external arc__interface arc__service } edges { id source target mainStat secondaryStat } } }`;
    const small: any = await gqlData(api.yoga, q(2));
    expect(small.edgeGraph.truncated).toBe(true);
    expect(small.edgeGraph.edges).toEqual([
      {
        id: '52.213.180.42->i-62/6/5001',
        source: '52.213.180.42',
        target: 'i-62',
        mainStat: '103.1 kB',
        secondaryStat: '2 conn, port 5001',
      },
      { id: 'i-a->i-b/6/5432', source: 'i-a', target: 'i-b', mainStat: '60.1 kB', secondaryStat: '1 conn, port 5432' },
    ]);
    expect(
      small.edgeGraph.nodes.map((n: any) => [n.id, n.subTitle, n.mainStat, n.arc__instance, n.arc__external]),
    ).toEqual([
      ['52.213.180.42', '52.213.180.42', '103.1 kB', 0, 1],
      ['i-62', '10.0.0.62', '103.1 kB', 1, 0],
      ['i-a', '10.0.1.10', '60.1 kB', 1, 0],
      ['i-b', '10.0.2.20', '60.1 kB', 1, 0],
    ]);
    const all: any = await gqlData(api.yoga, q(100));
    expect([all.edgeGraph.truncated, all.edgeGraph.edges.length]).toEqual([false, 21]);
  });

  it('diffs two windows: appeared, disappeared, changed by a factor', async () => {
    const q = (
      level: string,
      minFactor: number,
    ) => `{ edgeDiff(before: { from: "2024-03-01T08:00:00Z", to: "2024-03-01T09:00:00Z" },
      after: { from: "2024-03-01T14:00:00Z", to: "2024-03-01T15:00:00Z" }, filter: { srcAddr: ["10.0.1.1/32"] }, level: ${level}, minFactor: ${minFactor}) {
      truncated rows { change clientId serverId serverPort beforeBytes afterBytes } } }`;
    const instances: any = await gqlData(api.yoga, q('INSTANCE', 2));
    expect(instances.edgeDiff.rows).toEqual([
      { change: 'APPEARED', clientId: 'i-c', serverId: 'i-new', serverPort: 80, beforeBytes: '0', afterBytes: '333' },
      {
        change: 'DISAPPEARED',
        clientId: 'i-c',
        serverId: 'i-old',
        serverPort: 80,
        beforeBytes: '111',
        afterBytes: '0',
      },
    ]);
    // At subnet level it is one edge, 111 -> 333: a factor of 3.
    expect((await gqlData<any>(api.yoga, q('SUBNET', 3))).edgeDiff.rows).toEqual([
      {
        change: 'CHANGED',
        clientId: 'subnet-a',
        serverId: 'subnet-b',
        serverPort: 80,
        beforeBytes: '111',
        afterBytes: '333',
      },
    ]);
    expect((await gqlData<any>(api.yoga, q('SUBNET', 3.5))).edgeDiff.rows).toEqual([]);
  });

  it('orients flow records in SQL only when the direction fields are selected', async () => {
    const filter = `{ timeRange: ${DAY1}, addr: ["10.0.0.220", "10.0.0.2", "169.254.1.1", "198.51.100.7"] }`;
    const statements = () =>
      api.log.lines.filter((l) => (l.obj as { statement?: string }).statement === 'flows.direction').length;
    const before = statements();
    await gqlData(api.yoga, `{ flows(filter: ${filter}) { nodes { srcAddr } } }`);
    expect(statements()).toBe(before);
    const d: any = await gqlData(
      api.yoga,
      `{ flows(filter: ${filter}) { nodes { interfaceId srcAddr srcPort clientAddr clientPort serverAddr serverPort directionMethod } } }`,
    );
    expect(statements()).toBe(before + 1); // one statement for the whole page
    expect(
      d.flows.nodes.map(
        (n: any) =>
          `${n.interfaceId} ${n.srcAddr}:${n.srcPort} | ${n.clientAddr}:${n.clientPort} -> ${n.serverAddr}:${n.serverPort} ${n.directionMethod}`,
      ),
    ).toEqual([
      // The SSH reply is oriented by the handshake: the laptop is the client.
      'eni-srv 198.51.100.7:62897 | 198.51.100.7:62897 -> 10.0.0.5:22 HANDSHAKE',
      'eni-srv 10.0.0.5:22 | 198.51.100.7:62897 -> 10.0.0.5:22 HANDSHAKE',
      // NAT inside legs use the packet-level addresses: the instance and the internet host.
      'eni-nat 10.0.1.5:40001 | 10.0.1.5:40001 -> 203.0.113.5:443 HANDSHAKE',
      // The outside legs (NAT IP <-> host) had no handshake of their own: the port decides.
      'eni-nat 10.0.0.220:61000 | 10.0.0.220:61000 -> 203.0.113.5:443 PORT',
      'eni-nat 203.0.113.5:443 | 10.0.0.220:61000 -> 203.0.113.5:443 PORT',
      'eni-nat 10.0.0.220:443 | 10.0.1.5:40001 -> 203.0.113.5:443 HANDSHAKE',
      'eni-srv 10.0.0.5:53000 | 10.0.0.5:53000 -> 10.0.0.2:53 PORT',
      'eni-srv 10.0.0.2:53 | 10.0.0.5:53000 -> 10.0.0.2:53 PORT',
      // NTP 123 <-> 123: no rule decides; the smaller address is shown as the client.
      'eni-srv 10.0.0.5:123 | 10.0.0.5:123 -> 169.254.1.1:123 UNKNOWN',
    ]);
  });

  it('refuses bad arguments before running anything, naming the argument', async () => {
    const cases: [string, string, string][] = [
      [
        `{ handshakes(filter: { timeRange: ${DAY1} }, first: 0) { nodes { state } } }`,
        'first',
        'Invalid first: expected an integer from 1 to 1000, found 0',
      ],
      [
        `{ handshakes(filter: { timeRange: ${DAY1} }, after: "bm9wZQ") { nodes { state } } }`,
        'after',
        'Invalid after: expected a cursor returned by a previous page of handshakes, found "bm9wZQ"',
      ],
      [
        `{ handshakes(filter: { timeRange: ${DAY1} }, states: []) { nodes { state } } }`,
        'states',
        'Invalid states: expected at least one state, or omit states',
      ],
      [
        `{ trafficEdges(filter: { timeRange: ${DAY1} }, after: "x") { nodes { records } } }`,
        'after',
        'Invalid after: expected a cursor returned by a previous page of trafficEdges, found "x"',
      ],
      [
        `{ edgeGraph(filter: { timeRange: ${DAY1} }, maxEdges: 5000) { truncated } }`,
        'maxEdges',
        'Invalid maxEdges: expected an integer from 1 to 1000, found 5000',
      ],
      [
        `{ scans(filter: { timeRange: ${DAY1} }, minPorts: 0) { truncated } }`,
        'minPorts',
        'Invalid minPorts: expected an integer from 1 to 65536, found 0',
      ],
      [
        `{ edgeDiff(before: ${DAY1}, after: ${DAY1}, minFactor: 0.5) { truncated } }`,
        'minFactor',
        'Invalid minFactor: expected a number >= 1, found 0.5',
      ],
      [
        `{ edgeDiff(before: { from: "2024-03-02T00:00:00Z", to: "2024-03-01T00:00:00Z" }, after: ${DAY1}) { truncated } }`,
        'before',
        'Invalid before: expected from before to',
      ],
      [
        `{ edgeDiff(before: ${DAY1}, after: ${DAY1}, filter: { timeRange: ${DAY1} }) { truncated } }`,
        'filter.timeRange',
        'Invalid filter.timeRange: expected no timeRange: the windows are `before` and `after`',
      ],
      [
        `{ trafficEdges(filter: { timeRange: ${DAY1}, instanceIds: ["web-1"] }) { nodes { records } } }`,
        'filter.instanceIds[0]',
        'Invalid filter.instanceIds[0]: expected an id like i-0123456789abcdef0, found "web-1"',
      ],
    ];
    for (const [query, argument, message] of cases) {
      const body = await gql(api.yoga, query);
      expect(body.errors?.[0]?.extensions, query).toMatchObject({ code: 'BAD_USER_INPUT', argument });
      if (message) expect(body.errors?.[0]?.message).toBe(message);
      expect(body.extensions?.cost?.rowsReturned).toBe(0);
    }
  });
});
