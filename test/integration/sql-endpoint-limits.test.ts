/**
 * The SQL endpoint's limits, as for GraphQL and datasets: a statement past --query-timeout-ms is stopped (SQLSTATE
 * 57014), one answering more than --max-dataset-rows rows fails (54000) instead of streaming on, and a session goes on
 * after either. Tenant fixture A has 4 records.
 */
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunningServer } from '../../src/main.ts';
import { KEY_A, serveTenantFixture } from '../helpers/tenant-fixture.ts';

let server: RunningServer;
serveTenantFixture(
  (f) => ({ server } = f),
  () => ({ pgPort: 0, queryTimeoutMs: 1000, maxDatasetRows: 3 }),
);

let client: pg.Client;
beforeAll(async () => {
  client = new pg.Client({ host: '127.0.0.1', port: server.pg!.port, user: 'bi', password: KEY_A, database: 'flowql' });
  await client.connect();
});
afterAll(() => client?.end());

const failure = (text: string) =>
  client.query(text).then(
    () => null,
    (err: { code?: string; message: string }) => ({ code: err.code, message: err.message }),
  );

it('stops a statement at the time budget with SQLSTATE 57014', async () => {
  const started = Date.now();
  const got = await failure(
    'WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 100000000) SELECT count(*) FROM t',
  );
  expect(got).toEqual({
    code: '57014',
    message: "canceling statement due to statement timeout (1000 ms, the server's --query-timeout-ms)",
  });
  expect(Date.now() - started).toBeLessThan(5000);
  expect((await client.query('SELECT count(*) AS n FROM flows')).rows).toEqual([{ n: '4' }]);
});

it('answers up to --max-dataset-rows rows and refuses more with SQLSTATE 54000', async () => {
  expect((await client.query('SELECT flow_id FROM flows ORDER BY flow_id LIMIT 3')).rows).toEqual([
    { flow_id: '1' },
    { flow_id: '2' },
    { flow_id: '3' },
  ]);
  expect(await failure('SELECT flow_id FROM flows')).toEqual({
    code: '54000',
    message: "the statement returns more than 3 rows (the server's --max-dataset-rows): add a LIMIT or aggregate",
  });
  expect((await client.query('SELECT count(*) AS n FROM flows')).rows).toEqual([{ n: '4' }]);
});
