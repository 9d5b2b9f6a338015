/**
 * `flows` through yoga.fetch over a fixture warehouse.
 * Fixture: 3000 records all starting at 2024-05-01T10:00:00Z (flow_id 1..3000, account A, us-east-1), plus
 *  - flow 5000 (A, us-east-1, 2024-05-01T09:00:00Z): every kind of field set, bytes = 2^53 + 1 (exact only as a string)
 *  - flow 6000 (B, eu-west-1, 2024-05-01T11:00:00Z)
 * Ascending order: 5000, 1..3000, 6000.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFixtureWarehouse, type FixtureRecord } from '../../helpers/warehouse-fixture.ts';
import { gql, gqlData, testApi } from '../../helpers/graphql.ts';

const A = '111111111111';
const B = '222222222222';
const SAME_SECOND = '2024-05-01T10:00:00Z';
const WINDOW = { from: '2024-05-01T00:00:00Z', to: '2024-05-02T00:00:00Z' };
const crowd: FixtureRecord[] = Array.from({ length: 3000 }, (_, i) => ({
  account_id: A,
  region: 'us-east-1',
  start_time: SAME_SECOND,
  end_time: SAME_SECOND,
  flow_id: i + 1,
  srcaddr: `10.0.${Math.floor(i / 250)}.${i % 250}`,
  dstaddr: '10.9.9.9',
  srcport: 1024 + i,
  dstport: 443,
  protocol: 6,
  action: 'ACCEPT',
  log_status: 'OK',
  packets: 1,
  bytes: 60,
}));
const full: FixtureRecord = {
  account_id: A,
  region: 'us-east-1',
  start_time: '2024-05-01T09:00:00Z',
  end_time: '2024-05-01T09:00:59Z',
  flow_id: 5000,
  version: 5,
  interface_id: 'eni-0123456789abcdef0',
  srcaddr: '10.0.1.5',
  dstaddr: '52.216.0.1',
  srcport: 40000,
  dstport: 443,
  protocol: 6,
  packets: 12,
  bytes: 9007199254740993n,
  action: 'ACCEPT',
  log_status: 'OK',
  vpc_id: 'vpc-0aaaaaaaaaaaaaaaa',
  tcp_flags: 19,
  type: 'IPv4',
  pkt_dst_aws_service: 'S3',
  flow_direction: 'egress',
  traffic_path: 8,
  source_id: 7,
  source_line: 42,
  extra: { 'future-field': 'x' },
};
const other: FixtureRecord = {
  account_id: B,
  region: 'eu-west-1',
  start_time: '2024-05-01T11:00:00Z',
  flow_id: 6000,
  srcaddr: '2600:1f18::1',
  dstaddr: '2600:1f18::2',
  protocol: 58,
  log_status: 'OK',
};

const PAGE = `query Page($filter: FlowFilter!, $first: Int, $after: String, $orderBy: FlowOrder) {
  flows(filter: $filter, first: $first, after: $after, orderBy: $orderBy) {
    edges { cursor node { flowId } }
    pageInfo { hasNextPage endCursor }
  }
}`;
type PageData = {
  flows: {
    edges: { cursor: string; node: { flowId: string } }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
};

let root: string;
let api: Awaited<ReturnType<typeof testApi>>;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'flowql-flows-'));
  await writeFixtureWarehouse(root, [...crowd, full, other]);
  api = await testApi(root);
});
afterAll(async () => {
  api.db.closeSync();
  await rm(root, { recursive: true, force: true });
});

async function allIds(orderBy: string, first: number): Promise<{ ids: number[]; pages: number }> {
  const ids: number[] = [];
  let after: string | null = null;
  let pages = 0;
  for (;;) {
    const data: PageData = await gqlData<PageData>(api.yoga, PAGE, {
      filter: { timeRange: WINDOW },
      first,
      after,
      orderBy,
    });
    pages++;
    ids.push(...data.flows.edges.map((e) => Number(e.node.flowId)));
    if (!data.flows.pageInfo.hasNextPage) return { ids, pages };
    after = data.flows.pageInfo.endCursor;
  }
}

describe('flows paging', () => {
  it('pages through 3000 records sharing one second without repeating or skipping any', async () => {
    const { ids, pages } = await allIds('START_TIME_ASC', 700);
    expect(pages).toBe(5); // 3002 records: 700 * 4 + 202
    expect(ids).toHaveLength(3002);
    expect(new Set(ids).size).toBe(3002);
    expect(ids).toEqual([5000, ...Array.from({ length: 3000 }, (_, i) => i + 1), 6000]);
  });

  it('pages newest first with START_TIME_DESC', async () => {
    const { ids } = await allIds('START_TIME_DESC', 1000);
    expect(ids).toEqual([6000, ...Array.from({ length: 3000 }, (_, i) => 3000 - i), 5000]);
  });

  it('refuses a cursor of the other order, naming `after`', async () => {
    const first = await gqlData<PageData>(api.yoga, PAGE, { filter: { timeRange: WINDOW }, first: 2 });
    const body = await gql(api.yoga, PAGE, {
      filter: { timeRange: WINDOW },
      after: first.flows.pageInfo.endCursor,
      orderBy: 'START_TIME_DESC',
    });
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'after' });
    expect(body.errors?.[0]?.message).toMatch(
      /^Invalid after: expected a cursor returned by a previous page .*this cursor is for START_TIME_ASC/,
    );
  });
});

describe('Flow fields', () => {
  it('exposes stored fields in camelCase with exact BigInt strings, UTC DateTimes and decoded helpers', async () => {
    const data = await gqlData<{ flows: { nodes: Record<string, unknown>[] } }>(
      api.yoga,
      `{ flows(filter: { timeRange: { from: "2024-05-01T08:00:00Z", to: "2024-05-01T09:30:00Z" } }) {
          nodes { flowId accountId region date version interfaceId srcAddr dstAddr srcPort dstPort protocol protocolName
                  packets bytes start end action logStatus vpcId tcpFlags tcpFlagNames type pktDstAwsService
                  flowDirection trafficPath instanceId sourceId sourceLine extraFields { name value } }
        } }`,
    );
    expect(data.flows.nodes).toEqual([
      {
        flowId: '5000',
        accountId: A,
        region: 'us-east-1',
        date: '2024-05-01',
        version: 5,
        interfaceId: 'eni-0123456789abcdef0',
        srcAddr: '10.0.1.5',
        dstAddr: '52.216.0.1',
        srcPort: 40000,
        dstPort: 443,
        protocol: 6,
        protocolName: 'TCP',
        packets: '12',
        bytes: '9007199254740993',
        start: '2024-05-01T09:00:00.000Z',
        end: '2024-05-01T09:00:59.000Z',
        action: 'ACCEPT',
        logStatus: 'OK',
        vpcId: 'vpc-0aaaaaaaaaaaaaaaa',
        tcpFlags: 19,
        tcpFlagNames: ['FIN', 'SYN', 'ACK'],
        type: 'IPv4',
        pktDstAwsService: 'S3',
        flowDirection: 'egress',
        trafficPath: 8,
        instanceId: null,
        sourceId: 7,
        sourceLine: 42,
        extraFields: [{ name: 'future-field', value: 'x' }],
      },
    ]);
  });
});

describe('filters and cost', () => {
  it('reports partitions, files and rows in extensions.cost, and prunes by account', async () => {
    const q = `query($f: FlowFilter!) { flows(filter: $f, first: 10) { nodes { flowId protocolName } } }`;
    const body = await gql<{ flows: { nodes: { flowId: string; protocolName: string }[] } }>(api.yoga, q, {
      f: { timeRange: WINDOW, accountIds: [B], addr: ['2600:1f18::/32'] },
    });
    expect(body.data?.flows.nodes).toEqual([{ flowId: '6000', protocolName: 'ICMPv6' }]);
    expect(body.extensions?.cost).toMatchObject({ partitionsScanned: 1, filesScanned: 1, rowsReturned: 1 });
    const all = await gql(api.yoga, q, { f: { timeRange: WINDOW } });
    expect(all.extensions?.cost).toMatchObject({ partitionsScanned: 2, filesScanned: 2, rowsReturned: 11 });
  });

  it('filters by enum values and port ranges', async () => {
    const q = `{ flows(filter: { timeRange: { from: "2024-05-01", to: "2024-05-02" }, srcPort: [{ from: 1024, to: 1026 }, { from: 40000 }],
                 flowDirections: [EGRESS, INGRESS], tcpFlags: { all: [SYN, ACK] } }) { nodes { flowId } } }`;
    expect(await gqlData(api.yoga, q)).toEqual({ flows: { nodes: [{ flowId: '5000' }] } });
  });
});

describe('guardrails', () => {
  const bad = async (variables: Record<string, unknown>) => {
    const body = await gql(api.yoga, PAGE, variables);
    expect(body.data?.flows ?? null).toBeNull();
    expect(body.errors).toHaveLength(1);
    // Nothing ran: no file was scanned, no row returned.
    expect(body.extensions?.cost).toMatchObject({ filesScanned: 0, rowsReturned: 0 });
    return body.errors?.[0] as { message: string; extensions: Record<string, unknown> };
  };

  it('rejects bad arguments before any SQL, naming the argument path', async () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ filter: { timeRange: { from: 'last tuesday' } } }, 'filter.timeRange.from', /ISO-8601/],
      [{ filter: { timeRange: { from: WINDOW.to, to: WINDOW.from } } }, 'filter.timeRange', /from before to/],
      [{ filter: { timeRange: { from: '2024-01-01', to: '2024-05-01' } } }, 'filter.timeRange', /at most 31 days/],
      [{ filter: { timeRange: WINDOW, srcAddr: ['10.0.0.0/33'] } }, 'filter.srcAddr[0]', /CIDR/],
      [{ filter: { timeRange: WINDOW, dstPort: [{ from: 1, to: 65536 }] } }, 'filter.dstPort[0].to', /0 to 65535/],
      [{ filter: { timeRange: WINDOW }, first: 1001 }, 'first', /page size from 1 to 1000/],
      [{ filter: { timeRange: WINDOW }, first: 0 }, 'first', /page size from 1 to 1000/],
    ];
    for (const [variables, argument, message] of cases) {
      const err = await bad(variables);
      expect(err.extensions, JSON.stringify(variables)).toMatchObject({ code: 'BAD_USER_INPUT', argument });
      expect(err.message).toMatch(message);
    }
  });

  it('rejects an unknown enum value before execution', async () => {
    const body = await gql(api.yoga, PAGE, { filter: { timeRange: WINDOW }, orderBy: 'BYTES_DESC' });
    expect(body.errors?.[0]?.message).toMatch(/Value "BYTES_DESC" does not exist in "FlowOrder" enum/);
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'orderBy' });
    expect(body.extensions?.cost).toMatchObject({ filesScanned: 0, rowsReturned: 0 });
  });

  it('keeps injection text inert in every string argument', async () => {
    const evil = "x') OR 1=1; DROP TABLE flows; --";
    const stringArgs = [
      'accountIds',
      'regions',
      'vpcIds',
      'subnetIds',
      'instanceIds',
      'interfaceIds',
      'srcAddr',
      'dstAddr',
      'addr',
      'notSrcAddr',
      'notDstAddr',
      'notAddr',
      'pktSrcAwsServices',
      'pktDstAwsServices',
    ];
    for (const arg of stringArgs) {
      const err = await bad({ filter: { timeRange: WINDOW, [arg]: [evil] } });
      expect(err.extensions, arg).toMatchObject({ code: 'BAD_USER_INPUT', argument: `filter.${arg}[0]` });
    }
    expect((await bad({ filter: { timeRange: { from: evil } } })).extensions.argument).toBe('filter.timeRange.from');
    expect((await bad({ filter: { timeRange: WINDOW }, after: evil })).extensions.argument).toBe('after');
    // The data is intact afterwards.
    const { ids } = await allIds('START_TIME_ASC', 1000);
    expect(ids).toHaveLength(3002);
  });

  it('limits depth and cost before execution', async () => {
    const tight = await testApi(root, { db: api.db, maxCost: 50 });
    const body = await gql(
      tight.yoga,
      `{ flows(filter: {}, first: 10) { nodes { flowId srcAddr dstAddr srcPort dstPort bytes } } }`,
    );
    // flows 1 + nodes 10 + 6 fields x 10 = 71
    expect(body.errors?.[0]).toMatchObject({
      message: expect.stringMatching(/^Query cost 71 exceeds the limit of 50/),
      extensions: { code: 'QUERY_TOO_COMPLEX', cost: 71, limit: 50 },
    });
    const shallow = await testApi(root, { db: api.db, maxDepth: 2 });
    const deep = await gql(shallow.yoga, `{ flows(filter: {}) { edges { node { flowId } } } }`);
    expect(deep.errors?.[0]?.message).toBe('Query depth 4 exceeds the limit of 2.');
  });

  it('stops a query past its time budget with QUERY_TIMEOUT', async () => {
    const slow = await testApi(root, { db: api.db, queryTimeoutMs: 0 });
    const body = await gql(slow.yoga, `{ flows(filter: {}) { nodes { flowId } } }`);
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TIMEOUT', statement: 'flows.page' });
  });
});

describe('warehouse changes', () => {
  it('sees newly committed data without a restart, and masks unexpected errors', async () => {
    const root2 = await mkdtemp(join(tmpdir(), 'flowql-reload-'));
    try {
      const fresh = await testApi(root2);
      const q = `{ flows(filter: { timeRange: { from: "2024-05-01", to: "2024-05-02" } }) { nodes { flowId } } }`;
      expect(await gqlData(fresh.yoga, q)).toEqual({ flows: { nodes: [] } });
      await writeFixtureWarehouse(root2, [{ ...other, flow_id: 1 }]);
      expect(await gqlData(fresh.yoga, q)).toEqual({ flows: { nodes: [{ flowId: '1' }] } });
      await writeFile(join(root2, '_flowql', 'manifest.json'), '{ not json');
      const broken = await gql(fresh.yoga, q);
      expect(broken.errors?.[0]).toMatchObject({
        message: 'Unexpected error.',
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      });
      fresh.db.closeSync();
    } finally {
      await rm(root2, { recursive: true, force: true });
    }
  });
});
