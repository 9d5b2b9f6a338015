/**
 * A `FlowFilter` as SQL over the derived tables (handshakes and edge rows), whose columns name the two ends of a
 * connection rather than the two ends of a packet. Meaning on connections:
 * - time: handshakes by `start_time` in [from, to); edge rows by their hour bucket overlapping [from, to) (edge rows
 *   have hour resolution);
 * - vpc/subnet/instance/interface ids and `addr`: either end; `srcAddr` the client, `dstAddr` the server, and their
 *   `not` forms exclude the same;
 * - `port`/`dstPort`/`notPorts`/`notDstPort`: the server port; `srcPort`/`notSrcPort`: the client port (handshakes
 *   only); `protocols`/`notProtocols`: the protocol.
 * Accounts, regions and tenant scope are applied by pruning the file list (prunePartitions), not here. The fields
 * that describe single records (actions, log statuses, TCP flags, directions, traffic paths, packet services) are
 * refused: CONNECTION_FILTERS says why for each.
 */
import type { ConnectionTable } from '../domain/connection-enums.ts';
import type { ReferenceNames } from '../domain/filter-values.ts';
import type { FlowFilter, PortRange } from '../domain/flow-filter.ts';
import { InputError } from '../domain/input-error.ts';
import { addressMatchSql } from '../store/queries/flow-filter-query.ts';
import { endKeySql, endTaggedSql } from '../store/queries/inventory-tag-query.ts';
import { awsServiceOfSql, networkNameOfSql } from '../store/queries/reference-lookup-query.ts';
import { join, raw, sql, type SqlFragment, type SqlValue } from '../store/sql.ts';

const SIDE_ID_COLUMNS = {
  vpcIds: 'vpc_id',
  subnetIds: 'subnet_id',
  instanceIds: 'instance_id',
  interfaceIds: 'interface_id',
} as const;

function inList(column: string, values: readonly SqlValue[]): SqlFragment {
  return sql`${raw(column)} IN (${join(
    values.map((v) => sql`${v}`),
    ', ',
    'NULL',
  )})`;
}

function portMatch(column: 'server_port' | 'client_port', ranges: readonly PortRange[]): SqlFragment {
  return sql`(${join(
    ranges.map((r) => sql`${raw(column)} BETWEEN ${r.from} AND ${r.to}`),
    ' OR ',
    'FALSE',
  )})`;
}

const not = (f: SqlFragment): SqlFragment => sql`NOT coalesce(${f}, FALSE)`;
const eitherEnd = (f: FlowFilter['addr'] & object): SqlFragment =>
  sql`(${addressMatchSql('srcaddr', f)} OR ${addressMatchSql('dstaddr', f)})`;

/** How a connection question honours one filter field: a condition (null when the table cannot), or why it cannot. */
type Honour<K extends keyof FlowFilter> =
  | { readonly on: (value: NonNullable<FlowFilter[K]>, table: ConnectionTable) => SqlFragment | string }
  | { readonly pruned: true };

/**
 * Every FlowFilter field, for connections (handshakes and edge rows): its condition over the connection's columns,
 * pruned from the file list (accounts, regions, tenant scope), or the reason a table cannot honour it. A question
 * refuses a filter it cannot honour (BAD_USER_INPUT naming the field); it never ignores one. A field added to
 * FILTER_FIELDS (src/domain/filter-fields.ts) does not compile until it is classified here.
 */
const CONNECTION_FILTERS: { readonly [K in keyof FlowFilter]-?: Honour<K> } = {
  timeRange: {
    on: (r, table) =>
      table === 'handshakes'
        ? sql`start_time >= ${r.from} AND start_time < ${r.to}`
        : sql`bucket > ${r.from} - INTERVAL 1 HOUR AND bucket < ${r.to}`,
  },
  accountIds: { pruned: true },
  regions: { pruned: true },
  scopeAccountIds: { pruned: true },
  vpcIds: { on: (v) => sideIds('vpcIds', v) },
  subnetIds: { on: (v) => sideIds('subnetIds', v) },
  instanceIds: { on: (v) => sideIds('instanceIds', v) },
  interfaceIds: { on: (v) => sideIds('interfaceIds', v) },
  srcAddr: { on: (v) => addressMatchSql('srcaddr', v) },
  dstAddr: { on: (v) => addressMatchSql('dstaddr', v) },
  addr: { on: (v) => eitherEnd(v) },
  notSrcAddr: { on: (v) => not(addressMatchSql('srcaddr', v)) },
  notDstAddr: { on: (v) => not(addressMatchSql('dstaddr', v)) },
  notAddr: { on: (v) => not(eitherEnd(v)) },
  srcPort: { on: (v, table) => (table === 'handshakes' ? portMatch('client_port', v) : CLIENT_PORTS) },
  notSrcPort: { on: (v, table) => (table === 'handshakes' ? not(portMatch('client_port', v)) : CLIENT_PORTS) },
  dstPort: { on: (v) => portMatch('server_port', v) },
  notDstPort: { on: (v) => not(portMatch('server_port', v)) },
  port: { on: (v) => portMatch('server_port', v) },
  notPorts: { on: (v) => not(portMatch('server_port', v)) },
  protocols: { on: (v) => inList('protocol', v) },
  notProtocols: { on: (v) => not(inList('protocol', v)) },
  actions: {
    on: () =>
      'a connection holds accepted and rejected records alike: filter handshakes by state, or read rejectedRecords of edges',
  },
  logStatuses: { on: () => 'connections are paired from records with addresses (log status OK) only' },
  tcpFlags: { on: () => 'a connection is not one record: filter handshakes by state instead' },
  flowDirections: {
    on: () => 'connections are oriented client to server, not by the direction a record was logged in',
  },
  trafficPaths: { on: () => 'connections do not keep the traffic path of their records' },
  pktSrcAwsServices: {
    on: () => 'connections name the AWS service of an end (client or server), not of a packet source',
  },
  pktDstAwsServices: {
    on: () => 'connections name the AWS service of an end (client or server), not of a packet destination',
  },
  awsServices: { on: (v) => eitherEndNamed(v, (addr, table) => awsServiceOfSql(addr, table), true) },
  networks: { on: (v) => eitherEndNamed(v, (addr, table) => networkNameOfSql(addr, table), false) },
  tag: { on: (v, table) => eitherEndTagged(v, table) },
  minBytes: { on: () => RECORD_THRESHOLD },
  maxBytes: { on: () => RECORD_THRESHOLD },
  minPackets: { on: () => RECORD_THRESHOLD },
  maxPackets: { on: () => RECORD_THRESHOLD },
  minDurationSeconds: { on: () => RECORD_THRESHOLD },
  maxDurationSeconds: { on: () => RECORD_THRESHOLD },
};

const RECORD_THRESHOLD =
  'thresholds test single records, and a connection sums many: filter flows by it, or rank edges by bytes';

const CLIENT_PORTS = 'edges sum every client port of a client and server (only handshakes keep the client port)';

/**
 * Either end named one of `v.names` by a reference table (the lookup of its address). With `logged`, the end's own
 * service (pkt-*-aws-service of the records that resolved it) wins over the lookup, as on Endpoint.awsService.
 */
function eitherEndNamed(
  v: ReferenceNames,
  lookup: (addr: string, table: string) => SqlFragment,
  logged: boolean,
): SqlFragment {
  const end = (side: 'client' | 'server'): SqlFragment => {
    const looked = v.table ? lookup(`${side}_addr`, v.table) : null;
    if (!logged) return looked ?? raw('NULL');
    return looked ? sql`coalesce(${raw(`${side}_service`)}, ${looked})` : raw(`${side}_service`);
  };
  const named = (e: SqlFragment): SqlFragment =>
    sql`${e} IN (${join(
      v.names.map((n) => sql`${n}`),
      ', ',
      'NULL',
    )})`;
  return sql`(${named(end('client'))} OR ${named(end('server'))})`;
}

/**
 * Either end carries the tag at the connection's time: a handshake's start, an edge row's first record (when the
 * inventory names its ends too).
 */
function eitherEndTagged(v: NonNullable<FlowFilter['tag']>, table: ConnectionTable): SqlFragment {
  const at = table === 'handshakes' ? 'start_time' : 'first_seen';
  const end = (side: 'client' | 'server') =>
    endTaggedSql(v, endKeySql(`${side}_instance_id`, `${side}_interface_id`, `${side}_addr`), at);
  return sql`(${end('client')} OR ${end('server')})`;
}

function sideIds(key: keyof typeof SIDE_ID_COLUMNS, values: readonly SqlValue[]): SqlFragment {
  const column = SIDE_ID_COLUMNS[key];
  return sql`(${inList(`client_${column}`, values)} OR ${inList(`server_${column}`, values)})`;
}

/**
 * The first filter field a connection question over `table` cannot honour, with the reason; null when it honours
 * them all. The dataset route asks before running (through questions/connection-rows.ts), to name its URL parameter;
 * connectionFilterSql refuses it anyway.
 */
export function refusedConnectionFilter(
  f: FlowFilter,
  table: ConnectionTable,
): { field: keyof FlowFilter; reason: string } | null {
  for (const field of Object.keys(CONNECTION_FILTERS) as (keyof FlowFilter)[]) {
    const value = f[field];
    const honour = CONNECTION_FILTERS[field] as Honour<keyof FlowFilter>;
    if (value === null || value === undefined || 'pruned' in honour) continue;
    const got = honour.on(value as never, table);
    if (typeof got === 'string') return { field, reason: got };
  }
  return null;
}

/**
 * WHERE conditions over a relation exposing `srcaddr` (= client_addr) and `dstaddr` (= server_addr) aliases, as
 * produced by connectionRelationSql. Throws InputError (BAD_USER_INPUT) naming a field the table cannot honour.
 */
export function connectionFilterSql(f: FlowFilter, table: ConnectionTable): SqlFragment {
  const refused = refusedConnectionFilter(f, table);
  if (refused)
    throw new InputError(
      `filter.${refused.field}`,
      `no ${refused.field} on ${table === 'edges' ? 'edges and their totals' : 'handshakes'}: ${refused.reason}`,
    );
  const w: SqlFragment[] = [];
  for (const field of Object.keys(CONNECTION_FILTERS) as (keyof FlowFilter)[]) {
    const value = f[field];
    const honour = CONNECTION_FILTERS[field] as Honour<keyof FlowFilter>;
    if (value === null || value === undefined || 'pruned' in honour) continue;
    w.push(honour.on(value as never, table) as SqlFragment);
  }
  return join(w, '\n  AND ', 'TRUE');
}

/** `(SELECT *, client_addr AS srcaddr, server_addr AS dstaddr FROM rows WHERE filter)`. */
export function connectionRelationSql(rows: SqlFragment, f: FlowFilter, table: ConnectionTable): SqlFragment {
  return sql`(SELECT * FROM (SELECT *, client_addr AS srcaddr, server_addr AS dstaddr FROM ${rows})
  WHERE ${connectionFilterSql(f, table)})`;
}
