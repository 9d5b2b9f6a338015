/**
 * Handshakes for the API (pages, scans, and the handshake look-up that orients flow records): picks the derived table
 * or the raw fallback, filters, pages by keyset, and returns typed values (the stored column names are read here only).
 */
import { DERIVE_CONTEXT_SECONDS } from '../analytics/connection-rules.ts';
import { flowDirectionLookupQuery, type FlowTupleKey } from '../analytics/flow-direction-query.ts';
import { handshakePageQuery } from '../analytics/handshake-query.ts';
import { rejectedRecordsSql, scanQuery } from '../analytics/scan-query.ts';
import type {
  DirectionMethod,
  EndpointKind,
  HandshakeKey,
  HandshakeState,
  ScanEvidence,
} from '../domain/connection-enums.ts';
import { validateFlowFilter, type FlowFilter } from '../domain/flow-filter.ts';
import { prunePartitions } from '../store/queries/flow-filter-query.ts';
import { runQuery, type QueryContext, type Row } from '../store/query-runner.ts';
import { scanFiles } from '../store/scan-files.ts';
import { endpointFromRow, type Endpoint } from './endpoint.ts';
import { connectionRows } from './connection-rows.ts';

/** One TCP connection attempt (docs/semantics.md §3). */
export interface Handshake {
  readonly clientAddr: string;
  readonly clientPort: number;
  readonly serverAddr: string;
  readonly serverPort: number;
  readonly protocol: number;
  readonly state: HandshakeState;
  /** Start of the first SYN record. */
  readonly start: Date;
  /** End of the last record of the connection seen within the pairing window. */
  readonly end: Date;
  readonly closed: boolean;
  readonly synAckSeen: boolean;
  readonly synRecords: number;
  /** Interfaces that logged the SYN, sorted. */
  readonly observedAt: readonly string[];
  readonly client: Endpoint;
  readonly server: Endpoint;
}

function handshakeFromRow(r: Row): Handshake {
  return {
    clientAddr: String(r.client_addr),
    clientPort: Number(r.client_port),
    serverAddr: String(r.server_addr),
    serverPort: Number(r.server_port),
    protocol: Number(r.protocol),
    state: r.state as HandshakeState,
    start: r.start_time as Date,
    end: r.end_time as Date,
    closed: Boolean(r.closed),
    synAckSeen: Boolean(r.syn_ack_seen),
    synRecords: Number(r.syn_records),
    observedAt: Array.isArray(r.observed_interfaces) ? r.observed_interfaces.map(String) : [],
    client: endpointFromRow(r, 'client', null, r.start_time as Date),
    server: endpointFromRow(r, 'server', null, r.start_time as Date),
  };
}

/** One page of handshakes. */
export interface HandshakePage {
  readonly rows: readonly Handshake[];
  readonly hasNextPage: boolean;
}

/**
 * A source that reached many ports or hosts without getting connections (scan-query.ts), judged on `evidence`: its
 * failed handshakes, or its rejected records without tcp-flags. The handshake counts are null on a REJECTED_RECORDS
 * row (no handshake was judged) and `rejectedRecords` on a FAILED_HANDSHAKES row; the distinct counts are of the
 * row's evidence.
 */
export interface Scan {
  readonly sourceAddr: string;
  readonly evidence: ScanEvidence;
  /** Resolved from the handshakes' client ends; null on REJECTED_RECORDS (records are not resolved to endpoints). */
  readonly sourceKind: EndpointKind | null;
  readonly sourceInstanceId: string | null;
  readonly syns: bigint | null;
  readonly failed: bigint | null;
  readonly rejected: bigint | null;
  readonly unanswered: bigint | null;
  readonly rejectedRecords: bigint | null;
  readonly failedPorts: number;
  readonly failedHosts: number;
  readonly failedTargets: number;
  readonly firstSeen: Date;
  readonly lastSeen: Date;
}

function scanFromRow(r: Row): Scan {
  const big = (v: unknown): bigint | null => (v === null || v === undefined ? null : BigInt(v as bigint | number));
  const evidence = r.evidence as ScanEvidence;
  return {
    sourceAddr: String(r.source_addr),
    evidence,
    sourceKind: evidence === 'FAILED_HANDSHAKES' ? ((r.source_kind ?? 'EXTERNAL') as EndpointKind) : null,
    sourceInstanceId: (r.source_instance_id as string | null) ?? null,
    syns: big(r.syns),
    failed: big(r.failed),
    rejected: big(r.rejected),
    unanswered: big(r.unanswered),
    rejectedRecords: big(r.rejected_records),
    failedPorts: Number(r.failed_ports),
    failedHosts: Number(r.failed_hosts),
    failedTargets: Number(r.failed_targets),
    firstSeen: r.first_seen as Date,
    lastSeen: r.last_seen as Date,
  };
}

/** Handshakes matching `filter` (and `states` when given), oldest first, `first` of them after `after`. */
export async function readHandshakes(
  ctx: QueryContext,
  args: { filter: FlowFilter; states: readonly HandshakeState[] | null; first: number; after: HandshakeKey | null },
): Promise<HandshakePage> {
  const source = await connectionRows(ctx, args.filter, 'handshakes');
  if (source.files.length === 0) return { rows: [], hasNextPage: false };
  const rows = await runQuery(
    ctx,
    handshakePageQuery({
      rows: source.rows,
      states: args.states,
      first: args.first,
      after: args.after,
    }),
  );
  return { rows: rows.slice(0, args.first).map(handshakeFromRow), hasNextPage: rows.length > args.first };
}

/** The keyset position of a handshake (for cursors). */
export function handshakeKeyOf(h: Handshake): HandshakeKey {
  return {
    startTime: h.start,
    clientAddr: h.clientAddr,
    clientPort: h.clientPort,
    serverAddr: h.serverAddr,
    serverPort: h.serverPort,
  };
}

/**
 * Scanning sources (scan-query.ts) under `filter`, most failed targets first; `truncated` when more than `limit`.
 * connectionRows refuses the filter fields connections cannot honour before either relation is read, so the record
 * part never applies a field the handshake part would refuse.
 */
export async function readScans(
  ctx: QueryContext,
  args: { filter: FlowFilter; minPorts: number; minHosts: number; limit: number },
): Promise<{ rows: readonly Scan[]; truncated: boolean }> {
  const source = await connectionRows(ctx, args.filter, 'handshakes');
  if (source.files.length === 0) return { rows: [], truncated: false };
  const flows = prunePartitions((await ctx.warehouse.manifest()).files, args.filter, 'flows');
  await scanFiles(ctx, flows);
  const rows = await runQuery(
    ctx,
    scanQuery({
      rows: source.rows,
      records: rejectedRecordsSql(
        flows.map((f) => ctx.warehouse.absolutePath(f)),
        args.filter,
      ),
      minPorts: args.minPorts,
      minHosts: args.minHosts,
      limit: args.limit,
    }),
  );
  return { rows: rows.slice(0, args.limit).map(scanFromRow), truncated: rows.length > args.limit };
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
const UNKNOWN: FlowDirection = {
  method: 'UNKNOWN',
  clientAddr: null,
  clientPort: null,
  serverAddr: null,
  serverPort: null,
};
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
    keys.push({
      i,
      psrc,
      srcport,
      pdst,
      dstport,
      protocol,
      hour: new Date(Math.floor(r.start_time.getTime() / HOUR_MS) * HOUR_MS),
    });
  });
  const out: FlowDirection[] = rows.map(() => UNKNOWN);
  if (keys.length === 0) return out;
  const hours = keys.map((k) => k.hour.getTime());
  const from = new Date(Math.min(...hours) - DERIVE_CONTEXT_SECONDS * 1000);
  const to = new Date(Math.max(...hours) + HOUR_MS + DERIVE_CONTEXT_SECONDS * 1000);
  const filter = validateFlowFilter({ timeRange: { from, to } }, { maxRangeMs: Number.MAX_SAFE_INTEGER });
  const found = await runQuery(
    ctx,
    flowDirectionLookupQuery(keys, (await connectionRows(ctx, filter, 'handshakes')).rows),
  );
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
