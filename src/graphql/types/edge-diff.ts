/**
 * `edgeDiff(before, after, filter, level, minFactor, first)`: edges that APPEARED, DISAPPEARED or CHANGED (total
 * bytes by at least `minFactor` either way) between two windows, largest absolute change first (edge-diff-query.ts).
 * The filter gives the other conditions; its time window comes from `before` and `after`. No SQL here.
 */
import { checkCount } from '../../domain/aggregate-enums.ts';
import type { FlowFilter } from '../../domain/flow-filter.ts';
import { InputError } from '../../domain/input-error.ts';
import { readEdgeDiff, type EdgeDiffRow } from '../../questions/edge-reader.ts';
import { builder, type GraphQLContext } from '../builder.ts';
import { DirectionMethodEnum } from './flow-direction.ts';
import { FlowFilterInput, TimeRangeInput, resolveFlowFilter } from './flow-filter-input.ts';
import { EndpointKindEnum } from './traffic-edge-endpoint.ts';
import { EdgeLevelEnum, groupingOf, TAG_KEY_DESCRIPTION } from './traffic-edge.ts';

const EDGE_CHANGES = ['APPEARED', 'DISAPPEARED', 'CHANGED'] as const;

/** How an edge changed. */
export const EdgeChangeEnum = builder.enumType('EdgeChange', {
  description:
    'APPEARED: only in `after`; DISAPPEARED: only in `before`; CHANGED: in both, bytes changed by minFactor or more.',
  values: EDGE_CHANGES,
});

const EdgeDiffRowRef = builder.objectRef<EdgeDiffRow>('EdgeDiffRow').implement({
  description: 'One edge that changed between the two windows.',
  fields: (t) => ({
    change: t.field({ type: EdgeChangeEnum, resolve: (r) => r.change }),
    clientId: t.exposeString('clientId'),
    clientKind: t.field({ type: EndpointKindEnum, resolve: (r) => r.clientKind }),
    serverId: t.exposeString('serverId'),
    serverKind: t.field({ type: EndpointKindEnum, resolve: (r) => r.serverKind }),
    protocol: t.exposeInt('protocol'),
    serverPort: t.exposeInt('serverPort', { nullable: true }),
    beforeBytes: t.field({
      type: 'BigInt',
      description: 'Bytes (both directions, once) in `before`.',
      resolve: (r) => r.beforeBytes,
    }),
    afterBytes: t.field({
      type: 'BigInt',
      description: 'Bytes (both directions, once) in `after`.',
      resolve: (r) => r.afterBytes,
    }),
    directionMethod: t.field({ type: DirectionMethodEnum, resolve: (r) => r.directionMethod }),
  }),
});

const EdgeDiffRef = builder.objectRef<{ rows: readonly EdgeDiffRow[]; truncated: boolean }>('EdgeDiff').implement({
  description: 'Edges that changed between two windows, largest absolute byte change first.',
  fields: (t) => ({
    rows: t.field({ type: [EdgeDiffRowRef], resolve: (p) => [...p.rows] }),
    truncated: t.boolean({ description: 'More edges changed than `first`.', resolve: (p) => p.truncated }),
  }),
});

/** The filter with `window` as its time range; errors about the window name the window argument. */
async function windowFilter(
  ctx: GraphQLContext,
  filter: unknown,
  window: unknown,
  argument: string,
): Promise<FlowFilter> {
  try {
    return await resolveFlowFilter(ctx, { ...(filter ?? {}), timeRange: window });
  } catch (err) {
    if (err instanceof InputError && err.argument.startsWith('filter.timeRange')) {
      throw new InputError(err.argument.replace('filter.timeRange', argument), err.expected);
    }
    throw err;
  }
}

builder.queryField('edgeDiff', (t) =>
  t.field({
    type: EdgeDiffRef,
    description:
      'What changed in the communication graph between two windows ("new edges this week compared with last").',
    args: {
      before: t.arg({ type: TimeRangeInput, required: true }),
      after: t.arg({ type: TimeRangeInput, required: true }),
      filter: t.arg({
        type: FlowFilterInput,
        description: 'Other conditions (without timeRange), as in trafficEdges.',
      }),
      level: t.arg({ type: EdgeLevelEnum, required: true, defaultValue: 'INSTANCE' }),
      tagKey: t.arg.string({ description: TAG_KEY_DESCRIPTION }),
      minFactor: t.arg.float({
        required: true,
        defaultValue: 2,
        description: 'Smallest change factor of a CHANGED edge, >= 1.',
      }),
      first: t.arg.int({ required: true, defaultValue: 100, description: '1 to the page maximum.' }),
    },
    resolve: async (_root, args, ctx) => {
      if (args.filter?.timeRange)
        throw new InputError('filter.timeRange', 'no timeRange: the windows are `before` and `after`');
      if (!Number.isFinite(args.minFactor) || args.minFactor < 1)
        throw new InputError('minFactor', 'a number >= 1', args.minFactor);
      const limit = checkCount('first', args.first, 1, ctx.limits.maxPageSize);
      const grouping = groupingOf(args.level, args.tagKey);
      const before = await windowFilter(ctx, args.filter, args.before, 'before');
      const after = await windowFilter(ctx, args.filter, args.after, 'after');
      return readEdgeDiff(ctx.query, {
        before,
        after,
        ...grouping,
        minFactor: args.minFactor,
        limit,
      });
    },
  }),
);
