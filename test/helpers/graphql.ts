/**
 * GraphQL in tests without a socket: `gql(yoga, query, variables)` posts through `yoga.fetch` and returns the parsed
 * body. `gqlData` also fails the test with the query, variables and errors printed when the response has errors.
 */
import type { DuckDBInstance } from '@duckdb/node-api';
import { createApiYoga, type ApiDeps } from '../../src/graphql/yoga.ts';
import { openApiDatabase } from '../../src/store/duckdb.ts';
import { createWarehouseReader } from '../../src/store/warehouse-reader.ts';
import { memoryLogger } from './query-context.ts';

/** A GraphQL response body. */
export interface GqlResponse<T = Record<string, unknown>> {
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
  extensions?: {
    cost?: {
      partitionsScanned: number;
      filesScanned: number;
      rowsScanned: number;
      rowsReturned: number;
      cachedStatements: number;
      tiers: string[];
      ms: number;
    };
  } & Record<string, unknown>;
}

type Fetcher = { fetch: (url: string, init: RequestInit) => Response | Promise<Response> };

/** Posts one operation; returns the HTTP status and body. */
export async function gql<T = Record<string, unknown>>(
  yoga: Fetcher,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<GqlResponse<T> & { status: number }> {
  const response = await yoga.fetch('http://flowql.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, ...((await response.json()) as GqlResponse<T>) };
}

/** Like gql, but throws (printing query, variables and errors) unless the response is error-free data. */
export async function gqlData<T = Record<string, unknown>>(
  yoga: Fetcher,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<T> {
  const body = await gql<T>(yoga, query, variables);
  if (body.errors?.length || !body.data) {
    throw new Error(
      `GraphQL request failed (HTTP ${body.status})\n--- query\n${query}\n--- variables\n${JSON.stringify(variables, null, 2)}\n--- errors\n${JSON.stringify(body.errors, null, 2)}`,
    );
  }
  return body.data;
}

/** The API over the warehouse at `root`, with test-sized limits (override any of them). */
export async function testApi(root: string, overrides: Partial<ApiDeps> & { db?: DuckDBInstance } = {}) {
  const { db: given, ...rest } = overrides;
  const log = { ...memoryLogger(), error: () => {} };
  const db = given ?? (await openApiDatabase({ warehouseRoot: root, threads: 1 }));
  const yoga = createApiYoga({
    db,
    warehouse: createWarehouseReader(root),
    log,
    limits: { maxPageSize: 1000, defaultPageSize: 100, maxRangeMs: 31 * 86_400_000, maxTierRangeMs: 400 * 86_400_000 },
    queryTimeoutMs: 10_000,
    maxDepth: 12,
    maxCost: 100_000,
    graphiql: false,
    ...rest,
  });
  return { yoga, db, log };
}
