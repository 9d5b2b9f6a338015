/**
 * The Pothos schema builder: scalars, the relay plugin and the request context. No types here: each lives in
 * src/graphql/types/<thing>.ts and is registered by one import line in src/graphql/schema.ts.
 */
import SchemaBuilder from '@pothos/core';
import RelayPlugin from '@pothos/plugin-relay';
import { GraphQLError, Kind } from 'graphql';
import type { QueryContext } from '../store/query-runner.ts';

/** Per-server limits every resolver enforces. */
export interface ApiLimits {
  /** Largest `first` a connection accepts. */
  readonly maxPageSize: number;
  /** `first` when the client gives none. */
  readonly defaultPageSize: number;
  /** Longest time window a filter may span (--max-range-days): every question that reads flow records. */
  readonly maxRangeMs: number;
  /**
   * Longest window of an aggregate the rollup tiers answer (--max-tier-range-days; at least maxRangeMs). Absent: the
   * same as maxRangeMs.
   */
  readonly maxTierRangeMs?: number;
}

/** The per-request GraphQL context. */
export interface GraphQLContext {
  /** The store for this request: DuckDB, warehouse, cost meter, deadline, logger (readers take this). */
  readonly query: QueryContext;
  readonly limits: ApiLimits;
  /** Tenant allow-list of accounts (API keys, later); null = all accounts. Pass it to validateFlowFilter. */
  readonly scopeAccountIds: readonly string[] | null;
  /** The request's clock, so that defaults are consistent within one request. */
  readonly now: Date;
}

const DIGITS = /^-?\d+$/;

function bigintInput(value: unknown): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  if (typeof value === 'string' && DIGITS.test(value)) return BigInt(value);
  throw new GraphQLError(`BigInt expects a string of decimal digits, found ${JSON.stringify(value)}`, {
    extensions: { code: 'BAD_USER_INPUT' },
  });
}

/** The builder all type modules extend. */
export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  Scalars: {
    BigInt: { Input: bigint; Output: bigint | number };
    // Inputs stay strings: validateFlowFilter parses them so its error names the argument path.
    DateTime: { Input: string; Output: Date | string };
  };
  DefaultFieldNullability: false;
  DefaultEdgesNullability: false;
  DefaultNodeNullability: false;
}>({
  plugins: [RelayPlugin],
  defaultFieldNullability: false,
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodeQueryOptions: false,
    nodesQueryOptions: false,
    nodesOnConnection: true,
    edgesFieldOptions: { nullable: false },
    nodeFieldOptions: { nullable: false },
  },
});

builder.scalarType('BigInt', {
  description:
    'An exact integer (bytes, packets, counts, sums, ids: 64-bit, and sums of bytes or packets beyond it when records ' +
    'add up past 2^63), always serialised as a JSON string of decimal digits (e.g. "9007199254740993"), so no client ' +
    'loses precision. Inputs accept the same strings.',
  serialize: (value) => String(value),
  parseValue: bigintInput,
  parseLiteral: (node) => {
    if (node.kind === Kind.STRING || node.kind === Kind.INT) return bigintInput(node.value);
    throw new GraphQLError('BigInt expects a string of decimal digits', { extensions: { code: 'BAD_USER_INPUT' } });
  },
});

builder.scalarType('DateTime', {
  description:
    'An instant as an ISO-8601 string. Outputs are UTC with milliseconds (2024-05-01T12:00:00.000Z). Inputs accept a ' +
    'date (2024-05-01, midnight UTC) or a date-time with an optional offset (UTC when none).',
  serialize: (value) => (value instanceof Date ? value.toISOString() : String(value)),
  parseValue: (value) => {
    if (typeof value !== 'string') {
      throw new GraphQLError('DateTime expects an ISO-8601 string', { extensions: { code: 'BAD_USER_INPUT' } });
    }
    return value;
  },
  parseLiteral: (node) => {
    if (node.kind !== Kind.STRING) {
      throw new GraphQLError('DateTime expects an ISO-8601 string', { extensions: { code: 'BAD_USER_INPUT' } });
    }
    return node.value;
  },
});

builder.queryType({ description: 'Questions about the VPC flow logs in the warehouse.' });
