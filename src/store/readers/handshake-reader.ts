/**
 * Handshakes for the API: picks the derived table or the raw fallback, filters, pages by keyset. Rows keep the
 * stored column names; the GraphQL type maps them.
 */
import type { HandshakeState } from '../../analytics/connection-rules.ts';
import { connectionRelationSql } from '../../analytics/connection-filter-query.ts';
import { connectionSource } from '../../analytics/connection-source.ts';
import { handshakePageQuery, type HandshakeKey } from '../../analytics/handshake-query.ts';
import type { FlowFilter } from '../../domain/flow-filter.ts';
import { runQuery, type QueryContext, type Row } from '../query-runner.ts';

/** One page of handshakes. */
export interface HandshakePage {
  readonly rows: readonly Row[];
  readonly hasNextPage: boolean;
}

/** Handshakes matching `filter` (and `states` when given), oldest first, `first` of them after `after`. */
export async function readHandshakes(
  ctx: QueryContext,
  args: { filter: FlowFilter; states: readonly HandshakeState[] | null; first: number; after: HandshakeKey | null },
): Promise<HandshakePage> {
  const manifest = await ctx.warehouse.manifest();
  const source = connectionSource(manifest.files, args.filter, 'handshakes', (f) => ctx.warehouse.absolutePath(f));
  if (source.files.length === 0) return { rows: [], hasNextPage: false };
  ctx.cost.recordScan(source.files);
  const rows = await runQuery(
    ctx,
    handshakePageQuery({
      rows: connectionRelationSql(source.rows, args.filter, 'handshakes'),
      states: args.states,
      first: args.first,
      after: args.after,
    }),
  );
  return { rows: rows.slice(0, args.first), hasNextPage: rows.length > args.first };
}

/** The keyset position of a handshake row (for cursors). */
export function handshakeKeyOf(row: Row): HandshakeKey {
  return {
    startTime: row.start_time as Date,
    clientAddr: String(row.client_addr),
    clientPort: Number(row.client_port),
    serverAddr: String(row.server_addr),
    serverPort: Number(row.server_port),
  };
}
