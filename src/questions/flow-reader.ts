/**
 * Flow records by page: prunes the manifest for the filter, runs `flows.page` and turns rows into edges with opaque
 * cursors. A cursor is bound to its sort order; a foreign or damaged one is a caller error naming `after`.
 */
import type { FlowFilter } from '../domain/flow-filter.ts';
import type { FlowOrder } from '../domain/flow-order.ts';
import { InputError } from '../domain/input-error.ts';
import { flowFilterSql, prunePartitions } from '../store/queries/flow-filter-query.ts';
import { CURSOR_US, flowsPageQuery, type FlowKey } from '../store/queries/flows-page-query.ts';
import { runQuery, type QueryContext, type Row } from '../store/query-runner.ts';
import { scanFiles } from '../store/scan-files.ts';

/** Page arguments, already range-checked by the caller. */
export interface FlowPageArgs {
  readonly first: number;
  readonly after: string | null;
  readonly order: FlowOrder;
  /** Columns the caller reads from each node (flow_id is always there); null or absent for all of them. */
  readonly columns?: readonly string[] | null;
}

/** One page of records. */
export interface FlowPage {
  readonly edges: readonly { readonly cursor: string; readonly node: Row }[];
  readonly hasNextPage: boolean;
  readonly endCursor: string | null;
}

const CURSOR_EXPECTED = 'a cursor returned by a previous page of the same query and orderBy';
const MIN_CURSOR_US = -62_135_596_800_000_000n; // 0001-01-01T00:00:00Z
const MAX_CURSOR_US = 253_402_300_799_999_999n; // 9999-12-31T23:59:59.999999Z
const MAX_BIGINT = 2n ** 63n - 1n;

/** Opaque cursor text for a key in an order. */
export function encodeFlowCursor(order: FlowOrder, key: FlowKey): string {
  return Buffer.from(`f1:${order}:${key.startUs}:${key.flowId}`).toString('base64url');
}

/** The key of a cursor; InputError(`argument`) when it is not one of ours for this order. */
export function decodeFlowCursor(cursor: string, order: FlowOrder, argument = 'after'): FlowKey {
  const parts = Buffer.from(cursor, 'base64url').toString('utf8').split(':');
  const [tag, cursorOrder, us, id] = parts;
  if (parts.length !== 4 || tag !== 'f1' || !/^-?\d+$/.test(us ?? '') || !/^-?\d+$/.test(id ?? '')) {
    throw new InputError(argument, CURSOR_EXPECTED, cursor);
  }
  if (cursorOrder !== order)
    throw new InputError(argument, `${CURSOR_EXPECTED} (this cursor is for ${cursorOrder})`, cursor);
  // Ours hold a record's time (years 1 to 9999) and a BIGINT id: anything else would fail in DuckDB, not here.
  if ((us as string).length > 20 || (id as string).length > 20) throw new InputError(argument, CURSOR_EXPECTED, cursor);
  const key = { startUs: BigInt(us as string), flowId: BigInt(id as string) };
  if (key.startUs < MIN_CURSOR_US || key.startUs > MAX_CURSOR_US || key.flowId < 0n || key.flowId > MAX_BIGINT) {
    throw new InputError(argument, CURSOR_EXPECTED, cursor);
  }
  return key;
}

/** Reads flow pages for one request. */
export function createFlowReader(ctx: QueryContext) {
  return {
    /** The page of records matching `filter` after `args.after`. */
    async page(filter: FlowFilter, args: FlowPageArgs): Promise<FlowPage> {
      const after = args.after === null ? null : decodeFlowCursor(args.after, args.order);
      const manifest = await ctx.warehouse.manifest();
      const files = prunePartitions(manifest.files, filter);
      await scanFiles(ctx, files);
      const query = flowsPageQuery({
        files: files.map((f) => ctx.warehouse.absolutePath(f)),
        where: flowFilterSql(filter),
        order: args.order,
        after,
        limit: args.first,
        columns: args.columns ?? null,
      });
      const rows = await runQuery(ctx, query);
      const edges = rows.slice(0, args.first).map((node) => ({
        cursor: encodeFlowCursor(args.order, { startUs: node[CURSOR_US] as bigint, flowId: node.flow_id as bigint }),
        node,
      }));
      return { edges, hasNextPage: rows.length > args.first, endCursor: edges.at(-1)?.cursor ?? null };
    },
  };
}
