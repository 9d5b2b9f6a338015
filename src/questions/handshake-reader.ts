/**
 * Handshakes for the API (pages, scans, and the handshake look-up that orients flow records): picks the derived table or the raw fallback, filters, pages by keyset. Rows keep the
 * stored column names; the GraphQL type maps them.
 */
import { DERIVE_CONTEXT_SECONDS, type HandshakeState } from '../analytics/connection-rules.ts';
import { connectionRelationSql } from '../analytics/connection-filter-query.ts';
import { connectionSource } from '../analytics/connection-source.ts';
import { flowDirectionLookupQuery, type FlowTupleKey } from '../analytics/flow-direction-query.ts';
import { handshakePageQuery, type HandshakeKey } from '../analytics/handshake-query.ts';
import { scanQuery } from '../analytics/scan-query.ts';
import type { DirectionMethod } from '../analytics/connection-rules.ts';
import { validateFlowFilter, type FlowFilter } from '../domain/flow-filter.ts';
import { runQuery, type QueryContext, type Row } from '../store/query-runner.ts';

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

/** Scanning sources (scan-query.ts) under `filter`, most failed targets first; `truncated` when more than `limit`. */
export async function readScans(
  ctx: QueryContext,
  args: { filter: FlowFilter; minPorts: number; minHosts: number; limit: number },
): Promise<{ rows: readonly Row[]; truncated: boolean }> {
  const manifest = await ctx.warehouse.manifest();
  const source = connectionSource(manifest.files, args.filter, 'handshakes', (f) => ctx.warehouse.absolutePath(f));
  if (source.files.length === 0) return { rows: [], truncated: false };
  ctx.cost.recordScan(source.files);
  const rows = await runQuery(
    ctx,
    scanQuery({
      rows: connectionRelationSql(source.rows, args.filter, 'handshakes'),
      minPorts: args.minPorts,
      minHosts: args.minHosts,
      limit: args.limit,
    }),
  );
  return { rows: rows.slice(0, args.limit), truncated: rows.length > args.limit };
}

/** Who is the client of one flow record, and how that was decided (null addresses for records without any). */
export interface FlowDirection {
  readonly method: DirectionMethod;
  readonly clientAddr: string | null;
  readonly clientPort: number | null;
  readonly serverAddr: string | null;
  readonly serverPort: number | null;
}

const HOUR_MS = 3_600_000;
const UNKNOWN: FlowDirection = { method: 'UNKNOWN', clientAddr: null, clientPort: null, serverAddr: null, serverPort: null };
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/**
 * Orients flow records (rows with stored columns, as flows pages return them) with one statement for all of them:
 * the handshakes starting within the derivation context of their hours decide, else the ports (flow-direction-query.ts). Records without addresses or
 * start time (NODATA, SKIPDATA) are UNKNOWN with null ends.
 */
export async function readFlowDirections(ctx: QueryContext, rows: readonly Row[]): Promise<FlowDirection[]> {
  const keys: FlowTupleKey[] = [];
  rows.forEach((r, i) => {
    const psrc = (r.pkt_srcaddr ?? r.srcaddr) as string | null;
    const pdst = (r.pkt_dstaddr ?? r.dstaddr) as string | null;
    if (psrc == null || pdst == null || !(r.start_time instanceof Date)) return;
    const [srcport, dstport, protocol] = [num(r.srcport), num(r.dstport), num(r.protocol)];
    keys.push({ i, psrc, srcport, pdst, dstport, protocol, hour: new Date(Math.floor(r.start_time.getTime() / HOUR_MS) * HOUR_MS) });
  });
  const out: FlowDirection[] = rows.map(() => UNKNOWN);
  if (keys.length === 0) return out;
  const hours = keys.map((k) => k.hour.getTime());
  const from = new Date(Math.min(...hours) - DERIVE_CONTEXT_SECONDS * 1000);
  const to = new Date(Math.max(...hours) + HOUR_MS + DERIVE_CONTEXT_SECONDS * 1000);
  const filter = validateFlowFilter({ timeRange: { from, to } }, { maxRangeMs: Number.MAX_SAFE_INTEGER });
  const manifest = await ctx.warehouse.manifest();
  const source = connectionSource(manifest.files, filter, 'handshakes', (f) => ctx.warehouse.absolutePath(f));
  ctx.cost.recordScan(source.files);
  const found = await runQuery(ctx, flowDirectionLookupQuery(keys, connectionRelationSql(source.rows, filter, 'handshakes')));
  for (const r of found) {
    out[Number(r.i)] = {
      method: r.method as DirectionMethod,
      clientAddr: r.client_addr as string,
      clientPort: num(r.client_port),
      serverAddr: r.server_addr as string,
      serverPort: num(r.server_port),
    };
  }
  return out;
}
