/**
 * Access control over a real loopback port with two tenants (test/helpers/tenant-fixture.ts): A = 111111111111 (4
 * records, 6500 bytes), B = 222222222222 (2 records, 9007199254741000 bytes). Nothing of one tenant may reach the
 * other through queries, aggregates, cursors, metadata listings, datasets or errors; a missing/unknown key is 401;
 * naming a foreign account is FORBIDDEN (GraphQL) / 403 (datasets); persisted-only keys run only allow-listed text.
 */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/main.ts';
import { DATASET_NAMES } from '../../src/questions/dataset-statement.ts';
import {
  ACCOUNT_A,
  ACCOUNT_B,
  KEY_A,
  KEY_B,
  KEY_OPS,
  KEY_PERSISTED,
  serveTenantFixture,
  type LogLines,
} from '../helpers/tenant-fixture.ts';

let server: RunningServer;
let lines: LogLines;
const DAY = '{ timeRange: { from: "2024-05-01", to: "2024-05-02" } }';
const ALLOWED = `query Allowed { flowSummary(filter: ${DAY}) { records bytes } }`;

serveTenantFixture(
  (f) => ({ server, lines } = f),
  async (dir) => {
    const persisted = join(dir, 'persisted.json');
    await writeFile(persisted, JSON.stringify({ [createHash('sha256').update(ALLOWED).digest('hex')]: ALLOWED }));
    return { persistedOperationsFile: persisted, introspection: false };
  },
);

type Gql = {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response shapes vary per query; assertions check them
  data?: Record<string, any> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
};

async function gql(key: string | null, query: string, extra: Record<string, unknown> = {}): Promise<Gql> {
  const res = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ query, ...extra }),
  });
  return { status: res.status, ...((await res.json()) as Omit<Gql, 'status'>) };
}

describe('authentication', () => {
  it('401 without a key or with an unknown one, on GraphQL and datasets alike; health and readiness stay open', async () => {
    const none = await gql(null, ALLOWED);
    expect([none.status, none.errors?.[0]?.extensions?.code]).toEqual([401, 'UNAUTHENTICATED']);
    const wrong = await gql('not-a-key-000000000000', ALLOWED);
    expect([wrong.status, wrong.errors?.[0]?.message]).toEqual([401, 'The API key is not valid']);
    const ds = await fetch(`${server.url}/datasets/flows.csv`);
    expect([ds.status, ds.headers.get('www-authenticate')]).toEqual([401, 'Bearer realm="flowql"']);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);
    const metrics = await fetch(`${server.url}/metrics`, { headers: { 'x-api-key': KEY_A } });
    expect(metrics.status).toBe(403);
    expect(((await metrics.json()) as { error: { message: string } }).error.message).toBe(
      'This API key may not use metrics (its scopes: graphql, datasets)',
    );
  });

  it('logs the tenant by key name, never the key', () => {
    const requestLines = lines.filter((l) => l.msg === 'request' && l.route === '/graphql');
    expect(requestLines.some((l) => l.tenant === null)).toBe(true);
    expect(JSON.stringify(lines)).not.toContain(KEY_A);
  });
});

describe('tenant isolation over GraphQL', () => {
  it('aggregates, pages and metadata show each tenant only its accounts', async () => {
    const q = `{
      flowSummary(filter: ${DAY}) { records bytes }
      flowTopN(filter: ${DAY}, by: SRC_ADDR, limit: 10) { rows { label } }
      flows(filter: ${DAY}, first: 10) { nodes { flowId accountId } }
      datasets { table accountIds records }
      ingestStatus { records }
      partitions { nodes { accountId } totalCount }
    }`;
    const a = (await gql(KEY_A, q)).data!;
    expect(a.flowSummary).toEqual({ records: '4', bytes: '6500' });
    expect(a.flowTopN.rows.map((r: { label: string }) => r.label)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    expect(a.flows.nodes.map((n: { flowId: string }) => n.flowId)).toEqual(['1', '6', '2', '3']);
    expect(a.datasets).toEqual([{ table: 'FLOWS', accountIds: [ACCOUNT_A], records: '4' }]);
    expect([a.ingestStatus.records, a.partitions.totalCount, a.partitions.nodes[0].accountId]).toEqual([
      '4',
      1,
      ACCOUNT_A,
    ]);
    const b = (await gql(KEY_B, q)).data!;
    expect(b.flowSummary).toEqual({ records: '2', bytes: '9007199254741000' });
    expect(b.flows.nodes.map((n: { flowId: string }) => n.flowId)).toEqual(['4', '5']);
    expect(b.datasets).toEqual([{ table: 'FLOWS', accountIds: [ACCOUNT_B], records: '2' }]);
    const ops = (await gql(KEY_OPS, q)).data!;
    expect(ops.flowSummary).toEqual({ records: '6', bytes: '9007199254747500' });
  });

  it("a cursor from one tenant pages only the other tenant's own records", async () => {
    const page = (key: string, after: string | null) =>
      gql(
        key,
        `query P($after: String) { flows(filter: ${DAY}, first: 1, after: $after) { nodes { flowId } pageInfo { endCursor } } }`,
        {
          variables: { after },
        },
      );
    const first = (await page(KEY_A, null)).data!.flows;
    expect(first.nodes).toEqual([{ flowId: '1' }]);
    const b = (await page(KEY_B, first.pageInfo.endCursor)).data!.flows;
    expect(b.nodes).toEqual([{ flowId: '4' }]);
  });

  it('naming another account is FORBIDDEN, with the same answer whether that account exists or not', async () => {
    for (const account of [ACCOUNT_B, '333333333333']) {
      const r = await gql(KEY_A, `{ flowSummary(filter: { accountIds: ["${ACCOUNT_A}", "${account}"] }) { records } }`);
      expect(r.data).toBeNull();
      expect(r.errors).toHaveLength(1);
      expect(r.errors![0]!.message).toBe(
        `Forbidden: filter.accountIds[1] names account ${account}, which this API key may not read`,
      );
      expect(r.errors![0]!.extensions).toMatchObject({
        code: 'FORBIDDEN',
        argument: 'filter.accountIds[1]',
        accountId: account,
      });
    }
    const parts = await gql(KEY_A, `{ partitions(accountIds: ["${ACCOUNT_B}"]) { totalCount } }`);
    expect(parts.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', argument: 'accountIds[0]' });
  });

  it('introspection is off when configured so', async () => {
    const r = await gql(KEY_A, '{ __schema { types { name } } }');
    expect(r.errors?.[0]?.message).toMatch(/introspection/i);
  });
});

describe('persisted-only keys', () => {
  it('run allow-listed operations by id or by text, and nothing else', async () => {
    const hash = createHash('sha256').update(ALLOWED).digest('hex');
    const byId = await gql(KEY_PERSISTED, '', { query: undefined, documentId: hash });
    expect(byId.data?.flowSummary).toEqual({ records: '4', bytes: '6500' });
    const apollo = await gql(KEY_PERSISTED, '', {
      query: undefined,
      extensions: { persistedQuery: { version: 1, sha256Hash: hash } },
    });
    expect(apollo.data?.flowSummary.records).toBe('4');
    expect((await gql(KEY_PERSISTED, ALLOWED)).data?.flowSummary.records).toBe('4');
    const other = await gql(KEY_PERSISTED, `{ flowSummary(filter: ${DAY}) { records } }`);
    expect([other.status, other.errors?.[0]?.extensions?.code]).toEqual([403, 'PERSISTED_QUERY_ONLY']);
    const unknown = await gql(KEY_PERSISTED, '', { query: undefined, documentId: 'f'.repeat(64) });
    expect(unknown.errors?.[0]?.message).toBe(
      `Unknown persisted operation "${'f'.repeat(64)}": it is not in the allow-list`,
    );
    // Ordinary keys may still send text, or an allow-listed id.
    expect((await gql(KEY_A, '', { query: undefined, documentId: hash })).data?.flowSummary.records).toBe('4');
  });
});

describe('tenant isolation over datasets', () => {
  const params: Record<string, string> = { breakdown: '&by=SRC_ADDR,DST_ADDR', topn: '&by=ADDRESS_PAIR' };
  it("every dataset in every format holds only the caller's addresses and accounts", async () => {
    for (const name of DATASET_NAMES) {
      for (const format of ['csv', 'json']) {
        for (const [key, own, foreign] of [
          [KEY_A, '10.0.0.', '10.9.0.'],
          [KEY_B, '10.9.0.', '10.0.0.'],
        ] as const) {
          const res = await fetch(
            `${server.url}/datasets/${name}.${format}?from=2024-05-01&to=2024-05-02${params[name] ?? ''}`,
            { headers: { 'x-api-key': key } },
          );
          const text = await res.text();
          expect([name, format, res.status]).toEqual([name, format, 200]);
          expect(text.includes(foreign), `${name}.${format} for ${key} leaks ${foreign}`).toBe(false);
          expect(text.includes(key === KEY_A ? ACCOUNT_B : ACCOUNT_A)).toBe(false);
          // B has no TCP handshakes; summary and time series carry no addresses.
          const carriesAddresses =
            name !== 'summary' && name !== 'timeseries' && !(name === 'handshakes' && key === KEY_B);
          if (carriesAddresses) expect(text.includes(own), `${name}.${format}`).toBe(true);
        }
      }
    }
  });

  it('403 with a JSON body naming the parameter and account', async () => {
    const res = await fetch(`${server.url}/datasets/summary.csv?accountId=${ACCOUNT_B}`, {
      headers: { 'x-api-key': KEY_A },
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({
      error: {
        code: 'FORBIDDEN',
        message: `Forbidden: accountId names account ${ACCOUNT_B}, which this API key may not read`,
        argument: 'accountId',
        accountId: ACCOUNT_B,
      },
    });
  });
});
