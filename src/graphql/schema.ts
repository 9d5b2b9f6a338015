/**
 * The GraphQL schema: every type module registers itself on the builder when imported. To add a type, add one
 * import line below (keep them sorted); nothing else.
 */
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { builder } from './builder.ts';
import './types/aggregates.ts';
import './types/datasets.ts';
import './types/edge-diff.ts';
import './types/edge-graph.ts';
import './types/flow.ts';
import './types/flow-direction.ts';
import './types/flow-filter-input.ts';
import './types/flows.ts';
import './types/handshake.ts';
import './types/scan.ts';
import './types/traffic-cost.ts';
import './types/traffic-edge.ts';
import './types/traffic-edge-endpoint.ts';

/** The executable schema (built once per process). */
export const schema: GraphQLSchema = builder.toSchema();

/** The schema as SDL, sorted so the committed file diffs cleanly (schema/schema.graphql). */
export function printSortedSchema(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
