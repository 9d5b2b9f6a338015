/**
 * The API's limits over a real loopback port (the server as `flowql serve` builds it, in this process): GraphiQL's
 * schema request passes the default limits unless introspection is off.
 * Fixture: the tenant warehouse of test/helpers/tenant-fixture.ts (six records on 2024-05-01), no API keys.
 */
import { rm } from 'node:fs/promises';
import { buildClientSchema, getIntrospectionQuery, type IntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/main.ts';
import { startTestServer, tenantWarehouse } from '../helpers/tenant-fixture.ts';

/** The options GraphiQL (as bundled by @graphql-yoga/render-graphiql) asks its schema with. */
const GRAPHIQL_INTROSPECTION = getIntrospectionQuery({
  descriptions: true,
  specifiedByUrl: true,
  directiveIsRepeatable: true,
  schemaDescription: true,
  inputValueDeprecation: true,
  oneOf: true,
});

interface Body<T = Record<string, unknown>> {
  data?: T | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
  extensions?: { cost?: Record<string, number> };
}

let root: string;
let server: RunningServer;

beforeAll(async () => {
  ({ root } = await tenantWarehouse());
  ({ server } = await startTestServer({ dataDir: root })); // default limits: --max-depth 12, --max-cost 200000
});
afterAll(async () => {
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

async function post<T = Record<string, unknown>>(base: string, query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: (await res.json()) as Body<T> };
}

describe('introspection', () => {
  it("answers GraphiQL's schema request under the default limits, with a schema GraphiQL can build", async () => {
    const { status, body } = await post<IntrospectionQuery>(server.url, GRAPHIQL_INTROSPECTION);
    expect(body.errors).toBeUndefined();
    expect(status).toBe(200);
    const client = buildClientSchema(body.data!);
    expect(client.getQueryType()?.name).toBe('Query');
    expect(Object.keys(client.getQueryType()!.getFields())).toContain('flowTopN');
    expect(client.getType('BigInt')?.description).toMatch(/always serialised as a JSON string of decimal digits/);
  });

  it('still measures the real fields of an operation that introspects', async () => {
    const fields = 'flowId srcAddr dstAddr srcPort dstPort protocol packets bytes action logStatus accountId region';
    const flows = (n: number) => Array.from({ length: n }, (_, i) => `f${i}: flows(filter: {}, first: 1000) { nodes { ${fields} } }`).join(' ');
    // Each alias costs 1 + 1000 + 12 x 1000 = 13001: 15 of them pass --max-cost 200000, 16 do not.
    const fits = await post(server.url, `{ __schema { types { name } } ${flows(1).replace('first: 1000', 'first: 1')} }`);
    expect(fits.body.errors).toBeUndefined();
    const { body } = await post(server.url, `{ __schema { types { name fields { name } } } ${flows(16)} }`);
    expect(body.data ?? null).toBeNull();
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 200_000, cost: 16 * 13_001 });
  });

  it('is refused with --no-introspection', async () => {
    const off = await startTestServer({ dataDir: root, introspection: false });
    try {
      const { body } = await post(off.server.url, GRAPHIQL_INTROSPECTION);
      expect(body.data ?? null).toBeNull();
      expect(body.errors?.[0]?.message).toMatch(/introspection/i);
      expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED' });
    } finally {
      await off.server.close();
    }
  });
});
