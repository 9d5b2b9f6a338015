/**
 * The result cache in the running server (tenant fixture, two keys, real DuckDB): an identical request is answered
 * without running DuckDB again, but never with another tenant's answer, and a new ingest (a new manifest generation)
 * is seen at once. Also for downloads, whose headers say how they were answered, and /metrics counts it.
 */
import { describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/main.ts';
import { ACCOUNT_A, KEY_A, KEY_B, KEY_OPS, serveTenantFixture, type LogLines } from '../helpers/tenant-fixture.ts';
import { writeFixtureWarehouse } from '../helpers/warehouse-fixture.ts';

let root: string;
let server: RunningServer;
let lines: LogLines;
const DAY = '{ timeRange: { from: "2024-05-01T00:00:00Z", to: "2024-05-02T00:00:00Z" } }';
const SUMMARY = `{ flowSummary(filter: ${DAY}) { records bytes } }`;

serveTenantFixture((f) => ({ root, server, lines } = f));

type Summary = Record<string, { records: string; bytes: string }>;
type Cost = { cachedStatements: number };

/** The data of a query; the response's `extensions.cost` goes to `costs` when given. */
async function gql(key: string, query: string, costs?: Cost[]): Promise<Summary> {
  const res = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query }),
  });
  const body = (await res.json()) as { data: Summary; errors?: unknown; extensions: { cost: Cost } };
  expect(body.errors).toBeUndefined();
  costs?.push(body.extensions.cost);
  return body.data;
}

/** DuckDB statements the server ran, and answers it took from the cache, since `mark`. */
function since(mark: number) {
  const after = lines.slice(mark);
  return {
    ran: after.filter((l) => l.msg === 'query').length,
    cached: after.filter((l) => l.msg === 'query cached').map((l) => l.cache),
  };
}

describe('result cache', () => {
  it('answers a repeated query from the cache, per tenant, and sees a new ingest at once', async () => {
    let mark = lines.length;
    expect((await gql(KEY_A, SUMMARY)).flowSummary).toEqual({ records: '4', bytes: '6500' });
    expect(since(mark).ran).toBeGreaterThan(0);

    mark = lines.length;
    const costs: Cost[] = [];
    expect((await gql(KEY_A, SUMMARY, costs)).flowSummary).toEqual({ records: '4', bytes: '6500' });
    expect(since(mark)).toEqual({ ran: 0, cached: ['hit'] });
    expect(costs[0]!.cachedStatements).toBe(1);

    // Same text, other tenant: B's own answer, computed for B.
    mark = lines.length;
    expect((await gql(KEY_B, SUMMARY)).flowSummary).toEqual({ records: '2', bytes: '9007199254741000' });
    expect(since(mark).ran).toBeGreaterThan(0);
    expect(since(mark).cached).toEqual([]);

    // An ingest commits a new manifest generation: the kept answer is not used any more.
    await writeFixtureWarehouse(root, [
      {
        account_id: ACCOUNT_A,
        region: 'us-east-1',
        start_time: '2024-05-01T15:00:00Z',
        bytes: 100,
        packets: 1,
        action: 'ACCEPT',
      },
    ]);
    mark = lines.length;
    expect((await gql(KEY_A, SUMMARY)).flowSummary).toEqual({ records: '5', bytes: '6600' });
    expect(since(mark).ran).toBeGreaterThan(0);
  });

  it('runs identical requests arriving together once', async () => {
    const query = `{ flowSummary(filter: { timeRange: { from: "2024-05-01T10:00:00Z", to: "2024-05-01T11:00:00Z" } }) { records } }`;
    const mark = lines.length;
    const answers = await Promise.all(Array.from({ length: 6 }, () => gql(KEY_A, query)));
    expect(new Set(answers.map((a) => a.flowSummary!.records))).toEqual(new Set(['3']));
    const { ran, cached } = since(mark);
    expect(ran + cached.length).toBe(6);
    expect(ran).toBe(1);
  });

  it('keeps small downloads per tenant and says how each was answered', async () => {
    const get = (key: string) =>
      fetch(`${server.url}/datasets/summary.csv?from=2024-05-01&to=2024-05-02`, { headers: { 'x-api-key': key } });
    const first = await get(KEY_A);
    const firstBody = await first.text();
    const second = await get(KEY_A);
    const other = await get(KEY_B);
    expect([
      first.headers.get('x-flowql-cache'),
      second.headers.get('x-flowql-cache'),
      other.headers.get('x-flowql-cache'),
    ]).toEqual(['miss', 'hit', 'miss']);
    expect(await second.text()).toBe(firstBody);
    expect(second.headers.get('content-length')).toBe(String(Buffer.byteLength(firstBody)));
    expect(second.headers.get('x-flowql-rows')).toBe('1');
    const otherBody = await other.text();
    expect(otherBody).not.toBe(firstBody);
    expect(otherBody).toContain('9007199254741000');

    const metrics = await (await fetch(`${server.url}/metrics`, { headers: { 'x-api-key': KEY_OPS } })).text();
    expect(metrics).toContain('flowql_cached_answers_total{how="hit",statement="datasets.summary.csv"} 1\n');
    expect(metrics).toContain('flowql_cached_answers_total{how="shared",statement="flows.summary"} 5\n');
    expect(Number(/flowql_result_cache_bytes (\d+)/.exec(metrics)?.[1])).toBeGreaterThan(0);
  });
});
