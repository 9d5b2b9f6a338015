/**
 * `flows(filter, first, after, orderBy)`: flow records as a Relay connection with keyset cursors. The resolver
 * validates, then asks the flow reader; it never builds SQL.
 */
import { FLOW_ORDERS } from '../../domain/flow-order.ts';
import { InputError } from '../../domain/input-error.ts';
import { createFlowReader } from '../../questions/flow-reader.ts';
import { builder } from '../builder.ts';
import { selectedFlowColumns } from '../flow-columns.ts';
import { FlowRef } from './flow.ts';
import { FlowFilterInput, resolveFlowFilter } from './flow-filter-input.ts';

/** Sort orders of `flows`. */
export const FlowOrderEnum = builder.enumType('FlowOrder', {
  description: 'Order of flow records: by start time, then flowId (unique), so paging is stable.',
  values: FLOW_ORDERS,
});

/** The flows connection type. */
export const FlowConnectionRef = builder.connectionObject({
  type: FlowRef,
  name: 'FlowConnection',
  description: 'A page of flow records. Cursors are opaque and valid only with the same filter and orderBy.',
});

builder.queryField('flows', (t) =>
  t.field({
    type: FlowConnectionRef,
    description:
      'Flow records matching `filter`, oldest first by default. Page forward with `after: pageInfo.endCursor` until ' +
      '`hasNextPage` is false; no record is repeated or skipped even when many share a start time.',
    args: {
      filter: t.arg({ type: FlowFilterInput, required: true }),
      first: t.arg.int({ description: 'Page size (default and maximum set by the server, 100 and 1000 by default).' }),
      after: t.arg.string({ description: 'endCursor of the previous page.' }),
      orderBy: t.arg({ type: FlowOrderEnum, defaultValue: 'START_TIME_ASC' }),
    },
    resolve: async (_root, args, ctx, info) => {
      const { maxPageSize, defaultPageSize } = ctx.limits;
      const first = args.first ?? defaultPageSize;
      if (!Number.isInteger(first) || first < 1 || first > maxPageSize) {
        throw new InputError('first', `a page size from 1 to ${maxPageSize}`, first);
      }
      const filter = await resolveFlowFilter(ctx, args.filter);
      const page = await createFlowReader(ctx.query).page(filter, {
        first,
        after: args.after ?? null,
        order: args.orderBy ?? 'START_TIME_ASC',
        columns: selectedFlowColumns(info),
      });
      return {
        edges: page.edges.map((e) => ({ cursor: e.cursor, node: e.node })),
        pageInfo: {
          hasNextPage: page.hasNextPage,
          hasPreviousPage: false,
          startCursor: page.edges[0]?.cursor ?? null,
          endCursor: page.endCursor,
        },
      };
    },
  }),
);
