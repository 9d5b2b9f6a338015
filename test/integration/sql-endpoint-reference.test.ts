/**
 * The SQL endpoint's reference views over the tenant fixture (accounts 111111111111 and 222222222222): AWS's ip ranges
 * and your own networks (the shipped demo files), read alike by every key, and the inventory (the hand-checked
 * describe-* sample of test/fixtures/aws/inventory, whose resources belong to the same two accounts), of which a key
 * reads only its accounts' rows. A second inventory snapshot imported while the server runs is read by the next
 * statement, and ends the first snapshot's rows (`valid_to`).
 */
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addReferenceSnapshots, SHIPPED_IP_RANGES, SHIPPED_NETWORKS } from '../helpers/reference-fixture.ts';
import { KEY_A, KEY_B, KEY_OPS, serveTenantFixture, type TenantServer } from '../helpers/tenant-fixture.ts';

const FIXTURES = join(import.meta.dirname, '../fixtures/aws/inventory');
const INVENTORY = ['describe-instances.json', 'describe-network-interfaces.json'].map((f) => join(FIXTURES, f));
const FIRST_AS_OF = new Date('2024-05-01T00:00:00Z');
const SECOND_AS_OF = new Date('2024-05-01T12:00:00Z');

let fixture: TenantServer;
serveTenantFixture(
  (f) => (fixture = f),
  async (root) => {
    await addReferenceSnapshots(root, {
      ipRanges: SHIPPED_IP_RANGES,
      networks: SHIPPED_NETWORKS,
      inventory: { paths: INVENTORY, asOf: FIRST_AS_OF },
    });
    return { pgPort: 0 };
  },
);

const clients: pg.Client[] = [];
async function connect(key: string): Promise<pg.Client> {
  const client = new pg.Client({
    host: '127.0.0.1',
    port: fixture.server.pg!.port,
    user: 'bi',
    password: key,
    database: 'flowql',
  });
  await client.connect();
  clients.push(client);
  return client;
}

afterAll(async () => {
  await Promise.all(clients.map((c) => c.end()));
});

describe('reference views of the SQL endpoint', () => {
  let a: pg.Client;
  let b: pg.Client;
  let ops: pg.Client;
  beforeAll(async () => {
    [a, b, ops] = await Promise.all([connect(KEY_A), connect(KEY_B), connect(KEY_OPS)]);
  });

  it('lists ip_ranges, networks and inventory with their stored columns', async () => {
    const tables = await a.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'flowql' ORDER BY 1",
    );
    expect(tables.rows.map((r) => r.table_name)).toEqual(['flows', 'inventory', 'ip_ranges', 'networks']);
    const columns = await a.query(
      "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'flowql' AND table_name = 'inventory' AND column_name IN ('account_id', 'as_of', 'resource_id', 'name', 'valid_from', 'valid_to') ORDER BY 1",
    );
    expect(columns.rows).toEqual([
      { column_name: 'account_id', data_type: 'VARCHAR' },
      { column_name: 'as_of', data_type: 'TIMESTAMP' },
      { column_name: 'name', data_type: 'VARCHAR' },
      { column_name: 'resource_id', data_type: 'VARCHAR' },
      { column_name: 'valid_from', data_type: 'TIMESTAMP' },
      { column_name: 'valid_to', data_type: 'TIMESTAMP' },
    ]);
  });

  it('names an AWS address by the longest prefix, and your own networks, for every key alike', async () => {
    // 52.216.10.20 lies in AMAZON's 52.216.0.0/15 and in S3's listing of the same prefix; 3.5.1.1 in S3's 3.5.0.0/19.
    const longest = `SELECT service, region, prefix FROM ip_ranges
      WHERE family = 4 AND $1 BETWEEN first_hex AND last_hex
      ORDER BY prefix_len DESC, service = 'AMAZON', service LIMIT 1`;
    for (const client of [a, b, ops]) {
      expect((await client.query(longest, ['34d80a14'])).rows).toEqual([
        { service: 'S3', region: 'us-east-1', prefix: '52.216.0.0/15' },
      ]);
    }
    const ranges = await b.query(
      'SELECT count(*)::INTEGER AS n, count(DISTINCT service)::INTEGER AS services FROM ip_ranges',
    );
    expect(ranges.rows[0].n).toBeGreaterThan(10);
    const networks = await a.query('SELECT name FROM networks ORDER BY name');
    const networksB = await b.query('SELECT name FROM networks ORDER BY name');
    expect(networks.rows.length).toBeGreaterThan(0);
    expect(networksB.rows).toEqual(networks.rows);
  });

  it("shows each key only its accounts' resources, however the query is written", async () => {
    const names = (
      client: pg.Client,
      text = 'SELECT account_id, name FROM inventory WHERE name IS NOT NULL ORDER BY name',
    ) => client.query(text).then((r) => r.rows.map((row) => `${row.account_id}:${row.name}`));
    expect(await names(a)).toEqual([
      '111111111111:floating-eni',
      '111111111111:nat-a',
      '111111111111:payments-api',
      '111111111111:redis-prod',
    ]);
    expect(await names(b)).toEqual(['222222222222:other-tenant-db']);
    expect(await names(ops)).toEqual([
      '111111111111:floating-eni',
      '111111111111:nat-a',
      '222222222222:other-tenant-db',
      '111111111111:payments-api',
      '111111111111:redis-prod',
    ]);
    // A filter on the other account, a subquery and a UNION find nothing more.
    expect(await names(b, "SELECT account_id, name FROM inventory WHERE account_id = '111111111111'")).toEqual([]);
    expect(
      await names(
        b,
        `SELECT account_id, name FROM (SELECT * FROM flowql.inventory) WHERE name IS NOT NULL
         UNION ALL SELECT account_id, name FROM inventory WHERE resource_id LIKE 'i-0aaa%' ORDER BY 2`,
      ),
    ).toEqual(['222222222222:other-tenant-db']);
  });

  it('reads a snapshot imported while the server runs, and ends the rows it replaces', async () => {
    const before = await a.query(
      "SELECT as_of::VARCHAR AS a, valid_from::VARCHAR AS valid_from, valid_to FROM inventory WHERE resource_id = 'i-0aaaaaaaaaaaaaaa1'",
    );
    // The earliest snapshot names the resource before its time too, from its launch (LaunchTime), and nothing ends it.
    expect(before.rows).toEqual([{ a: '2024-05-01 00:00:00', valid_from: '2024-02-20 08:00:00', valid_to: null }]);
    await addReferenceSnapshots(fixture.root, { inventory: { paths: INVENTORY, asOf: SECOND_AS_OF } });
    const after = await a.query(
      "SELECT as_of::VARCHAR AS a, valid_from::VARCHAR AS f, valid_to::VARCHAR AS t FROM inventory WHERE resource_id = 'i-0aaaaaaaaaaaaaaa1' ORDER BY 1",
    );
    expect(after.rows).toEqual([
      { a: '2024-05-01 00:00:00', f: '2024-02-20 08:00:00', t: '2024-05-01 12:00:00' },
      { a: '2024-05-01 12:00:00', f: '2024-05-01 12:00:00', t: null },
    ]);
    // The other account's rows stay out of the newer snapshot too.
    const other = await b.query("SELECT count(*)::INTEGER AS n FROM inventory WHERE account_id <> '222222222222'");
    expect(other.rows).toEqual([{ n: 0 }]);
  });
});
