/**
 * The operation limits on the real schema: GraphiQL's schema request passes the default limits, introspection cannot
 * carry real fields or aliases past them, fragments are measured once each, the work estimate counts the rows each
 * field may return and the statements each root field runs, and oversized documents are refused by a lexer pass.
 */
import { parse, specifiedRules, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LIST_ROWS,
  MAX_DOCUMENT_TOKENS,
  MAX_INTROSPECTION_FIELDS,
  checkDocumentSize,
  estimateWork,
  operationShapeRule,
  type WorkLimits,
} from '../../../src/graphql/operation-limits.ts';
import { schema } from '../../../src/graphql/schema.ts';
import { GRAPHIQL_INTROSPECTION } from '../../helpers/graphiql-introspection.ts';

const check = (query: string, maxDepth = 12, rules = [...specifiedRules, operationShapeRule({ maxDepth })]) =>
  validate(schema, parse(query), rules).map((e) => ({ message: e.message, ...e.extensions }));

const WORK: WorkLimits = {
  maxCost: 200_000,
  maxStatements: 16,
  defaultPageSize: 100,
  maxPageSize: 1000,
  maxRangeMs: 31 * 86_400_000,
};
const work = (query: string, variables: Record<string, unknown> = {}, operationName?: string) =>
  estimateWork(schema, parse(query), operationName, variables, WORK);

describe('operationShapeRule', () => {
  it("passes GraphiQL's introspection query (15 levels deep) under the default depth of 12", () => {
    expect(check(GRAPHIQL_INTROSPECTION)).toEqual([]);
    expect(work(GRAPHIQL_INTROSPECTION)).toEqual({ cost: 0, statements: 0 });
    // Measured as an ordinary query it would be refused: the exemption is what lets it through.
    const asData = GRAPHIQL_INTROSPECTION.replace('__schema', 'flowSummary(filter: {})');
    expect(check(asData, 12, [operationShapeRule({ maxDepth: 12 })])).toContainEqual(
      expect.objectContaining({ code: 'QUERY_TOO_COMPLEX', depth: 15, limit: 12 }),
    );
  });

  it('measures the real fields of an operation that also introspects', () => {
    const mixed = `{ __schema { types { name fields { name type { name ofType { name } } } } }
      flows(filter: {}, first: 1000) { nodes { flowId srcAddr dstAddr bytes } } }`;
    expect(check(mixed)).toEqual([]);
    // flows 1 + nodes 1000 + 4 fields x 1000 = 5001, one statement; the introspection adds nothing.
    expect(work(mixed)).toEqual({ cost: 5001, statements: 1 });
    const deep = `{ __type(name: "Flow") { name } flows(filter: {}) { edges { node { flowId } } } }`;
    expect(check(deep, 3)).toEqual([
      expect.objectContaining({ message: 'Query depth 4 exceeds the limit of 3.', code: 'QUERY_TOO_COMPLEX' }),
    ]);
  });

  it('refuses aliases that would multiply introspection, also through fragments', () => {
    const aliases = (n: number) =>
      `{ ${Array.from({ length: n }, (_, i) => `s${i}: __schema { types { name } }`).join(' ')} }`;
    expect(check(aliases(MAX_INTROSPECTION_FIELDS))).toEqual([]);
    expect(check(aliases(MAX_INTROSPECTION_FIELDS + 1))).toEqual([
      expect.objectContaining({
        code: 'QUERY_TOO_COMPLEX',
        introspectionFields: MAX_INTROSPECTION_FIELDS + 1,
        limit: MAX_INTROSPECTION_FIELDS,
      }),
    ]);
    const viaFragments = `{ ...A ...B } fragment A on Query { a: __type(name: "Flow") { name } b: __type(name: "Query") { name } ...B }
      fragment B on Query { c: __schema { queryType { name } } d: __type(name: "Scan") { name } }`;
    expect(check(viaFragments)[0]).toMatchObject({ code: 'QUERY_TOO_COMPLEX', introspectionFields: 6 });
  });

  it("leaves nested introspection to graphql's MaxIntrospectionDepthRule", () => {
    const nested = '{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }';
    expect(check(nested).map((e) => e.message)).toEqual(['Maximum introspection depth exceeded']);
  });

  it('measures fragments once each: 2^40 spreads are counted, not walked', () => {
    const levels = 40;
    const fragments = Array.from(
      { length: levels },
      (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`,
    ).join('\n');
    const query = `{ ...F0 }\n${fragments}\nfragment F${levels} on Query { flowSummary(filter: {}) { records } }`;
    const started = performance.now();
    expect(check(query, 12, [operationShapeRule({ maxDepth: 12 })])).toEqual([]);
    expect(work(query)).toEqual({ cost: 2 * 2 ** 40, statements: 2 ** 40 });
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('estimateWork', () => {
  const window = 'filter: { timeRange: { from: "2024-05-01", to: "2024-05-02" } }';

  it('counts the rows `limit` and `first` allow, with their schema defaults and the server page size', () => {
    expect(
      work(`{ flowBreakdown(${window}, dimensions: [SRC_ADDR], limit: 10000) { rows { label value } truncated } }`),
    ).toEqual({ cost: 1 + 10_000 * 3 + 1, statements: 1 });
    // limit defaults to 100 in the schema.
    expect(work(`{ flowBreakdown(${window}, dimensions: [SRC_ADDR]) { rows { label } } }`)).toEqual({
      cost: 1 + 100 * 2,
      statements: 1,
    });
    // flowTopN's limit defaults to 10; a first left out is the server's default page size (100).
    expect(
      work(
        `{ flowTopN(${window}, by: DST_PORT) { rows { label } } flows(${window}) { nodes { flowId } pageInfo { hasNextPage } } }`,
      ),
    ).toEqual({ cost: 1 + 10 * 2 + (1 + 100 * 2 + 2), statements: 2 });
    // A page size above the maximum is the resolver's BAD_USER_INPUT: measured at the maximum.
    expect(work(`{ flows(${window}, first: 5000000) { nodes { flowId } } }`)).toEqual({
      cost: 1 + 1000 * 2,
      statements: 1,
    });
    // Who opened each record's connection is one more statement per page, whatever the records and fields asked.
    const directed = `flows(${window}, first: 10) { nodes { clientAddr serverPort directionMethod } }`;
    expect(work(`{ ${directed} }`)?.statements).toBe(2);
    expect(work(`{ a: ${directed} b: ${directed} c: flows(${window}) { nodes { flowId } } }`)?.statements).toBe(5);
    expect(work(`{ a: ${directed} ...F } fragment F on Query { b: ${directed} }`)?.statements).toBe(4);
  });

  it('takes sizes from variables, their defaults, and fragments', () => {
    const q = `query Q($n: Int! = 7, $f: FlowFilter!) { ...P topN: flowTopN(filter: $f, by: DST_PORT, limit: $n) { rows { label value } } }
      fragment P on Query { a: flowSummary(filter: $f) { records } b: flowSummary(filter: $f) { bytes } }`;
    const f = { timeRange: { from: '2024-05-01', to: '2024-05-02' } };
    expect(work(q, { f })).toEqual({ cost: 2 * 2 + 1 + 7 * 3, statements: 3 });
    expect(work(q, { f, n: 1000 })).toEqual({ cost: 4 + 1 + 1000 * 3, statements: 3 });
    // Variables that do not coerce: execution refuses them itself, nothing to estimate.
    expect(work(q, { f, n: 'x' })).toBeNull();
  });

  it('counts a time series as series x buckets of its window, other object lists as DEFAULT_LIST_ROWS', () => {
    const series = (args: string) => `{ flowTimeSeries(${args}) { series { label points { time bytes } } } }`;
    // One day of hours, one series: 24 points of 3 fields.
    expect(work(series(`${window}, interval: HOUR`))).toEqual({ cost: 1 + 1 * (1 + 1 + 24 * 3), statements: 1 });
    // Grouped into 50 series of the last 7 days in 5-minute buckets (2016 each).
    expect(
      work(series('filter: { timeRange: { last: "P7D" } }, interval: FIVE_MINUTES, groupBy: DST_PORT, maxSeries: 50')),
    ).toEqual({ cost: 1 + 50 * (1 + 1 + 2016 * 3), statements: 1 });
    // No window known: the longest a filter may have (31 days of hours).
    expect(work(series('filter: { timeRange: { from: "2024-05-01" } }'))).toEqual({
      cost: 1 + 1 * (1 + 1 + 744 * 3),
      statements: 1,
    });
    expect(work('{ datasets { table accountIds } }')).toEqual({ cost: DEFAULT_LIST_ROWS * 3, statements: 1 });
  });

  it('counts every alias of a root field as a statement', () => {
    const aliases = Array.from(
      { length: 100 },
      (_, i) => `b${i}: flowBreakdown(${window}, dimensions: [SRC_ADDR], limit: 10000) { rows { label value } }`,
    );
    expect(work(`{ ${aliases.join(' ')} }`)).toEqual({ cost: 100 * (1 + 10_000 * 3), statements: 100 });
  });
});

describe('checkDocumentSize', () => {
  const refusal = (body: string) => {
    try {
      checkDocumentSize(body, { maxDepth: 12 });
      return null;
    } catch (err) {
      return { message: (err as Error).message, ...(err as { extensions: object }).extensions };
    }
  };

  it('passes GraphiQL and ordinary operations, refuses 10,000 nested inline fragments without recursing', () => {
    expect(refusal(GRAPHIQL_INTROSPECTION)).toBeNull();
    const nested = (n: number) => `{ ${'... on Query { '.repeat(n)}__typename${' }'.repeat(n)} }`;
    expect(refusal(nested(60))).toBeNull();
    expect(refusal(nested(10_000))).toEqual({
      message:
        'The document nests { } or [ ] more than 64 levels deep (line 1): nest selections, fragments and values less.',
      code: 'QUERY_TOO_COMPLEX',
      limit: 64,
    });
    expect(refusal(`{ flows(filter: { accountIds: ${'['.repeat(100_000)} }) { nodes { flowId } } }`)).toMatchObject({
      limit: 64,
    });
    expect(refusal(`{ ${'__typename '.repeat(MAX_DOCUMENT_TOKENS + 1)}}`)).toMatchObject({
      code: 'QUERY_TOO_COMPLEX',
      limit: MAX_DOCUMENT_TOKENS,
      message: expect.stringMatching(/more than 10000 tokens/),
    });
  });
});
