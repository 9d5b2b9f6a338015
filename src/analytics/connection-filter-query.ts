/**
 * A `FlowFilter` as SQL over the derived tables (handshakes and edge rows), whose columns name the two ends of a
 * connection rather than the two ends of a packet. Meaning on connections:
 * - time: handshakes by `start_time` in [from, to); edge rows by their hour bucket overlapping [from, to) (edge rows
 *   have hour resolution);
 * - vpc/subnet/instance/interface ids and `addr`: either end; `srcAddr` the client, `dstAddr` the server;
 * - `port`/`dstPort`: the server port; `protocols`: the protocol.
 * Accounts, regions and tenant scope are applied by pruning the file list (prunePartitions), not here. Other fields
 * of the filter describe single records and are not applied to connections.
 */
import type { FlowFilter, PortRange } from '../domain/flow-filter.ts';
import { addressMatchSql } from '../store/queries/flow-filter-query.ts';
import { join, raw, sql, type SqlFragment, type SqlValue } from '../store/sql.ts';

/** Which derived relation the filter applies to. */
export type ConnectionTable = 'handshakes' | 'edges';

const SIDE_ID_COLUMNS = {
  vpcIds: 'vpc_id',
  subnetIds: 'subnet_id',
  instanceIds: 'instance_id',
  interfaceIds: 'interface_id',
} as const;

function inList(column: string, values: readonly SqlValue[]): SqlFragment {
  return sql`${raw(column)} IN (${join(values.map((v) => sql`${v}`), ', ', 'NULL')})`;
}

function portMatch(ranges: readonly PortRange[]): SqlFragment {
  return sql`(${join(ranges.map((r) => sql`server_port BETWEEN ${r.from} AND ${r.to}`), ' OR ', 'FALSE')})`;
}

/**
 * WHERE conditions over a relation exposing `srcaddr` (= client_addr) and `dstaddr` (= server_addr) aliases, as
 * produced by connectionRelationSql.
 */
export function connectionFilterSql(f: FlowFilter, table: ConnectionTable): SqlFragment {
  const w: SqlFragment[] = [];
  const { from, to } = f.timeRange;
  if (table === 'handshakes') w.push(sql`start_time >= ${from} AND start_time < ${to}`);
  else w.push(sql`bucket > ${from} - INTERVAL 1 HOUR AND bucket < ${to}`);
  for (const [key, column] of Object.entries(SIDE_ID_COLUMNS)) {
    const values = f[key as keyof typeof SIDE_ID_COLUMNS];
    if (values) w.push(sql`(${inList(`client_${column}`, values)} OR ${inList(`server_${column}`, values)})`);
  }
  if (f.addr) w.push(sql`(${addressMatchSql('srcaddr', f.addr)} OR ${addressMatchSql('dstaddr', f.addr)})`);
  if (f.srcAddr) w.push(addressMatchSql('srcaddr', f.srcAddr));
  if (f.dstAddr) w.push(addressMatchSql('dstaddr', f.dstAddr));
  if (f.port) w.push(portMatch(f.port));
  if (f.dstPort) w.push(portMatch(f.dstPort));
  if (f.protocols) w.push(inList('protocol', f.protocols));
  return join(w, '\n  AND ', 'TRUE');
}

/** `(SELECT *, client_addr AS srcaddr, server_addr AS dstaddr FROM rows WHERE filter)`. */
export function connectionRelationSql(rows: SqlFragment, f: FlowFilter, table: ConnectionTable): SqlFragment {
  return sql`(SELECT * FROM (SELECT *, client_addr AS srcaddr, server_addr AS dstaddr FROM ${rows})
  WHERE ${connectionFilterSql(f, table)})`;
}
