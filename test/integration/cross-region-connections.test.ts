// Issue 16, between regions: i-A (account A, us-east-1) opens one TCP connection to i-B (account B, eu-west-1) over
// inter-region peering, and i-A2 (account A, us-west-2) one to i-A (A's own us-east-1). Each end logs both directions
// in its own region's partition. Each connection is one row, filed under its client's region, its bytes counted once
// and all of them cross-region; the regions filter selects by that region, from the derived tables and from records
// paired at query time alike. Real DuckDB over real Parquet, derived as the ingester derives.
/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies are compared with literal values */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rec, t, type FixtureRecord } from '../helpers/analytics-fixture.ts';
import { storedRecord, writeDerivedFixtureWarehouse } from '../helpers/derived-fixture.ts';
import { writeFixtureWarehouse } from '../helpers/warehouse-fixture.ts';
import { gql, gqlData, testApi } from '../helpers/graphql.ts';
import { startTestServer } from '../helpers/tenant-fixture.ts';
import type { Manifest } from '../../src/store/layout.ts';

const A = '111111111111';
const B = '222222222222';
const end = (account: string, region: string, id: string, az: string) => ({
  account_id: account,
  region,
  interface_id: `eni-${id}`,
  instance_id: `i-${id}`,
  vpc_id: `vpc-${id}`,
  subnet_id: `subnet-${id}`,
  az_id: az,
});
const endA = end(A, 'us-east-1', 'a', 'use1-az1');
const endB = end(B, 'eu-west-1', 'b', 'euw1-az1');
const endA2 = end(A, 'us-west-2', 'a2', 'usw2-az1');
const at = t('2024-03-01T10:00:00');

/** One connection, both ends logging both directions (1000 bytes to the server, 20000 back), traffic-path 5. */
function connection(
  client: ReturnType<typeof end>,
  server: ReturnType<typeof end>,
  addrs: { c: string; s: string; port: number },
): FixtureRecord[] {
  const c2s = { srcaddr: addrs.c, dstaddr: addrs.s, srcport: 40000, dstport: addrs.port };
  const s2c = { srcaddr: addrs.s, dstaddr: addrs.c, srcport: addrs.port, dstport: 40000 };
  return [
    rec({ ...client, ...c2s, tcp_flags: 2, flow_direction: 'egress', traffic_path: 5, bytes: 1000, start: at }),
    rec({ ...client, ...s2c, tcp_flags: 18, flow_direction: 'ingress', bytes: 20000, start: at }),
    rec({ ...server, ...c2s, tcp_flags: 2, flow_direction: 'ingress', bytes: 1000, start: at }),
    rec({ ...server, ...s2c, tcp_flags: 18, flow_direction: 'egress', traffic_path: 5, bytes: 20000, start: at }),
  ];
}

const RECORDS = [
  ...connection(endA, endB, { c: '10.0.1.10', s: '10.8.2.20', port: 443 }),
  ...connection(endA2, endA, { c: '10.4.3.30', s: '10.0.1.10', port: 5432 }),
];

const window = 'timeRange: { from: "2024-03-01T00:00:00Z", to: "2024-03-02T00:00:00Z" }';
const edgesQuery = (filter = '') =>
  `{ trafficEdges(filter: { ${window}${filter} }, level: INSTANCE) { nodes { client { id accountId } server { id accountId } bytesToServer bytesToClient connections crossRegionBytes } }
     handshakes(filter: { ${window}${filter} }) { nodes { client { id } server { id } observedAt } } }`;

describe('connections between regions', () => {
  let root: string;
  let api: Awaited<ReturnType<typeof testApi>>;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'flowql-cross-region-'));
    await writeDerivedFixtureWarehouse(root, RECORDS);
    api = await testApi(root);
  });
  afterAll(() => api?.db.closeSync());

  it("files each connection's rows under its client's region, in the account's tables and the org tables", async () => {
    const manifest = JSON.parse(await readFile(join(root, '_flowql/manifest.json'), 'utf8')) as Manifest;
    const withRows = (table: string) =>
      manifest.files
        .filter((f) => f.table === table && f.rows > 0)
        .map((f) => `${f.accountId}/${f.region}:${f.rows}`)
        .sort();
    // A's tables: the A -> B connection under us-east-1 (A's client), A2 -> A under us-west-2. B's: A's client is
    // only an address in B's records, so the row is its server's, under eu-west-1.
    expect(withRows('edges')).toEqual([`${A}/us-east-1:1`, `${A}/us-west-2:1`, `${B}/eu-west-1:1`]);
    expect(withRows('org_edges')).toEqual(['*/us-east-1:1', '*/us-west-2:1']);
    expect(withRows('org_handshakes')).toEqual(['*/us-east-1:1', '*/us-west-2:1']);
    // Every flows partition has a file of every derived table (empty where no row is filed under it).
    const partitions = new Set(
      manifest.files.filter((f) => f.table === 'flows').map((f) => `${f.accountId}/${f.region}`),
    );
    for (const table of ['edges', 'handshakes'])
      expect(new Set(manifest.files.filter((f) => f.table === table).map((f) => `${f.accountId}/${f.region}`))).toEqual(
        partitions,
      );
  });

  it('organisation-wide: one edge and one handshake per connection, both ends resolved, every byte cross-region once', async () => {
    const d: any = await gqlData(api.yoga, edgesQuery());
    const byServer = (x: any, y: any) => x.server.id.localeCompare(y.server.id);
    expect([...d.trafficEdges.nodes].sort(byServer)).toEqual([
      {
        client: { id: 'i-a2', accountId: A },
        server: { id: 'i-a', accountId: A },
        bytesToServer: '1000',
        bytesToClient: '20000',
        connections: '1',
        crossRegionBytes: '21000',
      },
      {
        client: { id: 'i-a', accountId: A },
        server: { id: 'i-b', accountId: B },
        bytesToServer: '1000',
        bytesToClient: '20000',
        connections: '1',
        crossRegionBytes: '21000',
      },
    ]);
    expect([...d.handshakes.nodes].sort(byServer)).toEqual([
      { client: { id: 'i-a2' }, server: { id: 'i-a' }, observedAt: ['eni-a', 'eni-a2'] },
      { client: { id: 'i-a' }, server: { id: 'i-b' }, observedAt: ['eni-a', 'eni-b'] },
    ]);
    const cost: any = await gqlData(api.yoga, `{ trafficCost(filter: { ${window} }) { bytes crossRegionBytes } }`);
    expect(cost.trafficCost).toEqual({ bytes: '42000', crossRegionBytes: '42000' });
  });

  it('the regions filter selects by the region a row is filed under, from derived tables and from records alike', async () => {
    const ids = (d: any) => d.trafficEdges.nodes.map((e: any) => `${e.client.id}->${e.server.id}`).sort();
    const regions = (list: string[]) => `, regions: ${JSON.stringify(list)}`;
    const cases: [string, string, string[]][] = [
      // [filter, what it asks, expected edges]
      [regions(['us-east-1']), 'org, client region', ['i-a->i-b']],
      [regions(['eu-west-1']), 'org, server region only', []],
      [regions(['us-west-2', 'eu-west-1']), 'org, two regions', ['i-a2->i-a']],
      [`, accountIds: ["${A}"]` + regions(['us-east-1']), "A's tables", ['i-a->10.8.2.20']],
      [`, accountIds: ["${A}"]`, "A's tables, every region", ['i-a->10.8.2.20', 'i-a2->i-a']],
      [`, accountIds: ["${B}"]` + regions(['eu-west-1']), "B's tables: the row is the server's", ['10.0.1.10->i-b']],
      [`, accountIds: ["${B}"]` + regions(['us-east-1']), "B's tables, the client's region", []],
    ];
    // The same warehouse never derived: every question pairs the records at query time and must agree.
    const rawRoot = await mkdtemp(join(tmpdir(), 'flowql-cross-region-raw-'));
    await writeFixtureWarehouse(rawRoot, RECORDS.map(storedRecord));
    const rawApi = await testApi(rawRoot);
    try {
      for (const [filter, what, expected] of cases) {
        expect(ids(await gqlData(api.yoga, edgesQuery(filter))), what).toEqual(expected);
        const res: any = await gql(rawApi.yoga, edgesQuery(filter));
        expect(ids(res.data), `${what}, from records`).toEqual(expected);
      }
    } finally {
      rawApi.db.closeSync();
    }
  });

  it('a key allowed A only reads A-filed rows of its own records; a key allowed both the org rows, in GraphQL and SQL', async () => {
    const keysFile = join(root, 'keys.json');
    const keys = { a: 'cross-region-key-a-000001', ab: 'cross-region-key-ab-00002' };
    await writeFile(
      keysFile,
      JSON.stringify({
        keys: [
          { key: keys.a, accounts: [A], name: 'a' },
          { key: keys.ab, accounts: [A, B], name: 'ab' },
        ],
      }),
    );
    const { server } = await startTestServer({ dataDir: root, apiKeysFile: keysFile, pgPort: 0 });
    try {
      const ask = async (key: string) => {
        const res = await fetch(`${server.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
          body: JSON.stringify({ query: edgesQuery() }),
        });
        const body: any = await res.json();
        return JSON.stringify(body.data);
      };
      const a = await ask(keys.a);
      for (const onlyB of ['i-b', 'eni-b', 'subnet-b', 'vpc-b', 'euw1-az1', B]) expect(a).not.toContain(onlyB);
      expect(a).toContain('10.8.2.20');
      expect(await ask(keys.ab)).toContain('"i-b"');
      // The SQL endpoint's org views follow the same rule: their rows only for a key allowed every account.
      const sqlRows = async (key: string, text: string) => {
        const client = new pg.Client({ host: '127.0.0.1', port: server.pg!.port, user: 'bi', password: key });
        await client.connect();
        try {
          return (await client.query(text)).rows;
        } finally {
          await client.end();
        }
      };
      const orgEdges =
        'SELECT client_instance_id, server_instance_id, region, (bytes_to_server + bytes_to_client)::BIGINT AS bytes ' +
        'FROM flowql.org_edges ORDER BY region';
      expect(await sqlRows(keys.ab, orgEdges)).toEqual([
        { client_instance_id: 'i-a', server_instance_id: 'i-b', region: 'us-east-1', bytes: '21000' },
        { client_instance_id: 'i-a2', server_instance_id: 'i-a', region: 'us-west-2', bytes: '21000' },
      ]);
      expect(await sqlRows(keys.a, orgEdges)).toEqual([]);
      expect(await sqlRows(keys.a, 'SELECT DISTINCT account_id FROM flowql.edges')).toEqual([{ account_id: A }]);
    } finally {
      await server.close();
    }
  });
});
