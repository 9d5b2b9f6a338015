/**
 * `edgeGraph(filter, level, maxEdges)`: the `maxEdges` edges with most bytes, shaped for Grafana's node graph panel
 * (nodes: id, title, subTitle, mainStat, arc__* fractions; edges: id, source, target, mainStat, secondaryStat).
 * Point the Infinity data source at `edgeGraph.nodes` and `edgeGraph.edges` as two frames. No SQL here.
 */
import { checkCount } from '../../domain/aggregate-enums.ts';
import type { EdgeGraph, GraphEdge, GraphNode } from '../../questions/edge-graph.ts';
import { readEdgeGraph } from '../../questions/edge-reader.ts';
import { builder } from '../builder.ts';
import { FlowFilterInput, resolveFlowFilter } from './flow-filter-input.ts';
import { EdgeLevelEnum, groupingOf, TAG_KEY_DESCRIPTION } from './traffic-edge.ts';

const GraphNodeRef = builder.objectRef<GraphNode>('GraphNode').implement({
  description: 'A node of the node graph panel: an endpoint at the level, with the bytes of its drawn edges.',
  fields: (t) => ({
    id: t.exposeString('id'),
    title: t.exposeString('title'),
    subTitle: t.exposeString('subTitle', { description: 'The IP address, or the endpoint kind when it has several.' }),
    mainStat: t.exposeString('mainStat', {
      description: 'Bytes of the drawn edges touching the node (decimal units).',
    }),
    arc__instance: t.exposeFloat('arc__instance', {
      description: '1 for an instance (the panel colours arcs by these).',
    }),
    arc__interface: t.exposeFloat('arc__interface', { description: '1 for a requester-managed interface.' }),
    arc__external: t.exposeFloat('arc__external', { description: '1 for an external address.' }),
    arc__service: t.exposeFloat('arc__service', { description: '1 for an AWS service.' }),
  }),
});

const GraphEdgeRef = builder.objectRef<GraphEdge>('GraphEdge').implement({
  description: 'An edge of the node graph panel: client -> server on a protocol and port.',
  fields: (t) => ({
    id: t.exposeString('id'),
    source: t.exposeString('source', { description: 'Client node id.' }),
    target: t.exposeString('target', { description: 'Server node id.' }),
    mainStat: t.exposeString('mainStat', { description: 'Bytes, both directions, counted once.' }),
    secondaryStat: t.exposeString('secondaryStat', { description: 'Connections and server port.' }),
  }),
});

const EdgeGraphRef = builder.objectRef<EdgeGraph>('EdgeGraph').implement({
  description: 'The busiest part of the communication graph.',
  fields: (t) => ({
    nodes: t.field({ type: [GraphNodeRef], resolve: (g) => g.nodes }),
    edges: t.field({ type: [GraphEdgeRef], resolve: (g) => g.edges }),
    truncated: t.exposeBoolean('truncated', {
      description: 'More edges existed than maxEdges; the smallest were left out.',
    }),
  }),
});

builder.queryField('edgeGraph', (t) =>
  t.field({
    type: EdgeGraphRef,
    description: 'The edges with most bytes at `level` and their endpoints, for a node graph panel.',
    args: {
      filter: t.arg({ type: FlowFilterInput, required: true }),
      level: t.arg({ type: EdgeLevelEnum, required: true, defaultValue: 'INSTANCE' }),
      tagKey: t.arg.string({ description: TAG_KEY_DESCRIPTION }),
      maxEdges: t.arg.int({
        required: true,
        defaultValue: 100,
        description: '1 to the page maximum (1000 by default).',
      }),
    },
    resolve: async (_root, args, ctx) => {
      const maxEdges = checkCount('maxEdges', args.maxEdges, 1, ctx.limits.maxPageSize);
      const grouping = groupingOf(args.level, args.tagKey);
      // Edge rows summed per day answer long windows; connectionRows holds what they cannot answer to --max-range-days.
      const filter = await resolveFlowFilter(ctx, args.filter, 'filter', { aggregate: true });
      return readEdgeGraph(ctx.query, { filter, ...grouping, maxEdges });
    },
  }),
);
