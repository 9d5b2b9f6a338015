/**
 * The SQL endpoint's derived views over a warehouse derived as the ingester does (the connection cases of
 * test/unit/analytics/connection-cases.ts): handshakes and edges are listed by the catalog, and a handshake question
 * asked in SQL answers as the GraphQL `handshakes` field does, handshake by handshake, over the same day.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunningServer } from '../../src/main.ts';
import { writeDerivedFixtureWarehouse } from '../helpers/derived-fixture.ts';
import { startTestServer } from '../helpers/tenant-fixture.ts';
import * as C from '../unit/analytics/connection-cases.ts';

let root: string;
let server: RunningServer;
let client: pg.Client;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'flowql-sql-derived-'));
  await writeDerivedFixtureWarehouse(root, Object.values(C).flat());
  ({ server } = await startTestServer({ dataDir: root, pgPort: 0 }));
  // Without API keys the endpoint is open like the API: any password.
  client = new pg.Client({ host: '127.0.0.1', port: server.pg!.port, user: 'bi', password: 'x', database: 'flowql' });
  await client.connect();
});

afterAll(async () => {
  await client?.end();
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

it('lists every derived view with its stored columns', async () => {
  const tables = await client.query(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'flowql' ORDER BY 1",
  );
  expect(tables.rows.map((r) => r.table_name)).toEqual(['edges', 'flows', 'flows_hourly', 'handshakes']);
  const columns = await client.query(
    "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'flowql' AND table_name = 'handshakes' AND column_name IN ('client_port', 'state', 'closed', 'start_time', 'account_id') ORDER BY 1",
  );
  expect(columns.rows).toEqual([
    { column_name: 'account_id', data_type: 'VARCHAR' },
    { column_name: 'client_port', data_type: 'INTEGER' },
    { column_name: 'closed', data_type: 'BOOLEAN' },
    { column_name: 'start_time', data_type: 'TIMESTAMP' },
    { column_name: 'state', data_type: 'VARCHAR' },
  ]);
});

it('answers a handshake question as GraphQL does', async () => {
  const res = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      query: `{ handshakes(filter: { timeRange: { from: "2024-03-01T00:00:00Z", to: "2024-03-02T00:00:00Z" } }, first: 100) {
        nodes { clientAddr clientPort serverPort state closed } } }`,
    }),
  });
  const body = (await res.json()) as {
    data: { handshakes: { nodes: { clientAddr: string; clientPort: number; serverPort: number; state: string }[] } };
  };
  const graph = body.data.handshakes.nodes;
  expect(graph.length).toBeGreaterThan(3);
  const sql = await client.query(
    `SELECT client_addr AS "clientAddr", client_port AS "clientPort", server_port AS "serverPort", state, closed
       FROM handshakes
      WHERE start_time >= $1 AND start_time < $2
      ORDER BY start_time, client_addr, client_port`,
    ['2024-03-01 00:00:00', '2024-03-02 00:00:00'],
  );
  expect(sql.rows).toEqual(graph);
});
