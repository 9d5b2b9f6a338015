/**
 * The operation limits rule on the real schema: GraphiQL's schema request passes the default limits, introspection
 * cannot carry real fields or aliases past them, and fragments are measured once each.
 */
import { getIntrospectionQuery, parse, specifiedRules, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { MAX_INTROSPECTION_FIELDS, operationLimitsRule } from '../../../src/graphql/operation-limits.ts';
import { schema } from '../../../src/graphql/schema.ts';

const DEFAULTS = { maxDepth: 12, maxCost: 200_000, listSize: 1000 };

/** The options GraphiQL (as bundled by @graphql-yoga/render-graphiql) asks its schema with. */
const GRAPHIQL_INTROSPECTION = getIntrospectionQuery({
  descriptions: true,
  specifiedByUrl: true,
  directiveIsRepeatable: true,
  schemaDescription: true,
  inputValueDeprecation: true,
  oneOf: true,
});

const check = (query: string, limits = DEFAULTS, rules = [...specifiedRules, operationLimitsRule(limits)]) =>
  validate(schema, parse(query), rules).map((e) => ({ message: e.message, ...e.extensions }));

describe('operationLimitsRule', () => {
  it("passes GraphiQL's introspection query (15 levels deep) under the default depth of 12", () => {
    expect(check(GRAPHIQL_INTROSPECTION)).toEqual([]);
    // Measured as an ordinary query it would be refused: the exemption is what lets it through.
    const asData = GRAPHIQL_INTROSPECTION.replace('__schema', 'flowSummary(filter: {})');
    expect(check(asData, DEFAULTS, [operationLimitsRule(DEFAULTS)])).toContainEqual(
      expect.objectContaining({ code: 'QUERY_TOO_COMPLEX', depth: 15, limit: 12 }),
    );
  });

  it('measures the real fields of an operation that also introspects', () => {
    const mixed = `{ __schema { types { name fields { name type { name ofType { name } } } } }
      flows(filter: {}, first: 1000) { nodes { flowId srcAddr dstAddr bytes } } }`;
    // flows 1 + nodes 1000 + 4 fields x 1000 = 5001; the introspection adds nothing.
    expect(check(mixed, { ...DEFAULTS, maxCost: 5001 })).toEqual([]);
    expect(check(mixed, { ...DEFAULTS, maxCost: 5000 })).toEqual([
      expect.objectContaining({ code: 'QUERY_TOO_COMPLEX', cost: 5001, limit: 5000 }),
    ]);
    const deep = `{ __type(name: "Flow") { name } flows(filter: {}) { edges { node { flowId } } } }`;
    expect(check(deep, { ...DEFAULTS, maxDepth: 3 })).toEqual([
      expect.objectContaining({ message: 'Query depth 4 exceeds the limit of 3.', code: 'QUERY_TOO_COMPLEX' }),
    ]);
  });

  it('refuses aliases that would multiply introspection, also through fragments', () => {
    const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `s${i}: __schema { types { name } }`).join(' ')} }`;
    expect(check(aliases(MAX_INTROSPECTION_FIELDS))).toEqual([]);
    expect(check(aliases(MAX_INTROSPECTION_FIELDS + 1))).toEqual([
      expect.objectContaining({ code: 'QUERY_TOO_COMPLEX', introspectionFields: MAX_INTROSPECTION_FIELDS + 1, limit: MAX_INTROSPECTION_FIELDS }),
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
    const fragments = Array.from({ length: levels }, (_, i) => `fragment F${i} on Query { ...F${i + 1} a${i}: ...F${i + 1} }`)
      .join('\n')
      .replaceAll(/a\d+: \.\.\.(F\d+)/g, '...$1');
    const query = `{ ...F0 }\n${fragments}\nfragment F${levels} on Query { __typename }`;
    const started = performance.now();
    const errors = check(query, DEFAULTS, [operationLimitsRule(DEFAULTS)]);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(errors).toEqual([expect.objectContaining({ code: 'QUERY_TOO_COMPLEX', cost: 2 ** 40 })]);
  });
});
