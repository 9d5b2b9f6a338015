/**
 * A validated `FlowFilter` as SQL over the flows columns (a WHERE fragment, every value bound) and as a pruned list
 * of manifest files. Both prune: the file list by account/region/date in JS before DuckDB sees it, and the WHERE
 * fragment filters the same hive columns so a reader of a wider file list prunes too.
 *
 * Address matching works on the VARCHAR address columns as AWS writes them (canonical text; DuckDB's inet extension
 * is not available offline). IPv4: the octets fixed by the prefix as a string prefix (`starts_with`), plus a numeric
 * range on the one partially fixed octet. IPv6: the leading groups that can only be written one way as a string prefix,
 * then the address expanded to 32 hex digits and compared as a range. Measured on 5M addresses (bench notes in
 * test/unit/store/flow-filter-query.test.ts): string prefix + octet ~0.1 s; full numeric IPv4 conversion ~2.4 s.
 */
import type { AddressBlock } from '../../domain/cidr.ts';
import { ipv6Hex } from '../../domain/cidr.ts';
import { FILTER_FIELD_NAMES, type FilterColumn, type FilterField } from '../../domain/filter-fields.ts';
import type { ReferenceNames } from '../../domain/filter-values.ts';
import { datesInRange, type FlowFilter, type PortRange } from '../../domain/flow-filter.ts';
import type { ManifestFile, TableName } from '../layout.ts';
import { join, raw, sql, type SqlFragment, type SqlValue } from '../sql.ts';
import { ipv6HexSql } from './address-hex-sql.ts';
import { endKeySql, endTaggedSql } from './inventory-tag-query.ts';
import { PACKET_ADDRESS_SQL, awsServiceOfSql, networkNameOfSql } from './reference-lookup-query.ts';

/** Columns the filter reads: those of the filter fields, and the date and time of the window (fixed names). */
type Column = FilterColumn | 'date';

const col = (c: Column): SqlFragment => raw(c);

function inList(c: Column, values: readonly SqlValue[]): SqlFragment {
  if (values.length === 0) return raw('FALSE');
  return sql`${col(c)} IN (${join(
    values.map((v) => sql`${v}`),
    ', ',
  )})`;
}

function ipv4Match(c: Column, b: AddressBlock): SqlFragment {
  if (b.prefix === 32) return sql`${col(c)} = ${b.text}`;
  if (b.prefix === 0) return sql`(contains(${col(c)}, '.') AND NOT contains(${col(c)}, ':'))`;
  const octets = [24n, 16n, 8n, 0n].map((s) => Number((b.first >> s) & 0xffn));
  const fixed = Math.floor(b.prefix / 8);
  const textPrefix = octets
    .slice(0, fixed)
    .map((o) => `${o}.`)
    .join('');
  const parts: SqlFragment[] = [];
  if (fixed > 0) parts.push(sql`starts_with(${col(c)}, ${textPrefix})`);
  if (b.prefix % 8 !== 0) {
    const lo = octets[fixed] ?? 0;
    const hi = lo + (1 << (8 - (b.prefix % 8))) - 1;
    parts.push(sql`TRY_CAST(split_part(${col(c)}, '.', ${raw(String(fixed + 1))}) AS INTEGER) BETWEEN ${lo} AND ${hi}`);
  }
  return sql`(${join(parts, ' AND ')})`;
}

function ipv6Match(c: Column, b: AddressBlock): SqlFragment {
  if (b.prefix === 0) return sql`contains(${col(c)}, ':')`;
  const parts: SqlFragment[] = [sql`contains(${col(c)}, ':')`];
  // Leading groups fully inside the prefix and written with 4 digits (first nonzero) have a single textual form.
  const hex = ipv6Hex(b.first);
  let textPrefix = '';
  for (let g = 0; g < Math.min(7, Math.floor(b.prefix / 16)); g++) {
    const group = hex.slice(4 * g, 4 * g + 4);
    if (group.startsWith('0')) break;
    textPrefix += `${group}:`;
  }
  if (textPrefix) {
    const upper = textPrefix.toUpperCase();
    parts.push(
      upper === textPrefix
        ? sql`starts_with(${col(c)}, ${textPrefix})`
        : sql`(starts_with(${col(c)}, ${textPrefix}) OR starts_with(${col(c)}, ${upper}))`,
    );
  }
  parts.push(
    b.prefix === 128 ? sql`${ipv6HexSql(c)} = ${hex}` : sql`${ipv6HexSql(c)} BETWEEN ${hex} AND ${ipv6Hex(b.last)}`,
  );
  return sql`(${join(parts, ' AND ')})`;
}

/** The address column is inside one of the blocks (null when the column is null). */
export function addressMatchSql(c: Column, blocks: readonly AddressBlock[]): SqlFragment {
  const each = blocks.map((b) => (b.family === 4 ? ipv4Match(c, b) : ipv6Match(c, b)));
  return sql`(${join(each, ' OR ', 'FALSE')})`;
}

function portMatch(c: Column, ranges: readonly PortRange[]): SqlFragment {
  const singles = ranges.filter((r) => r.from === r.to).map((r) => r.from);
  const spans = ranges.filter((r) => r.from !== r.to);
  const each = [
    ...(singles.length ? [inList(c, singles)] : []),
    ...spans.map((r) => sql`${col(c)} BETWEEN ${r.from} AND ${r.to}`),
  ];
  return sql`(${join(each, ' OR ', 'FALSE')})`;
}

/** Keeps records for which `match` is false or unknown (null columns are "not in" anything). */
const not = (match: SqlFragment): SqlFragment => sql`coalesce(NOT ${match}, TRUE)`;

function windowSql(f: FlowFilter): SqlFragment[] {
  const dates = datesInRange(f.timeRange);
  const w: SqlFragment[] = [
    sql`date BETWEEN CAST(${dates[0] ?? '1970-01-01'} AS DATE) AND CAST(${dates[dates.length - 1] ?? '1970-01-01'} AS DATE)`,
    sql`start_time >= ${f.timeRange.from} AND start_time < ${f.timeRange.to}`,
  ];
  if (f.scopeAccountIds) w.push(inList('account_id', f.scopeAccountIds));
  return w;
}

/**
 * Only the cheap, pruning part of a filter: dates, time window and tenant scope. For a second pass over rows already
 * selected by the full filter (e.g. joining a page's keys back to its full rows), where re-testing CIDRs is waste.
 */
export function flowWindowSql(f: FlowFilter): SqlFragment {
  return join(windowSql(f), '\n  AND ');
}

const eitherAddress = (blocks: readonly AddressBlock[]): SqlFragment =>
  sql`(${addressMatchSql('srcaddr', blocks)} OR ${addressMatchSql('dstaddr', blocks)})`;
const eitherPort = (ranges: readonly PortRange[]): SqlFragment =>
  sql`(${portMatch('srcport', ranges)} OR ${portMatch('dstport', ranges)})`;
// The packet-level ends (docs/semantics.md §1): pkt-*-aws-service describes them, so the lookups use them too.
const { src: PACKET_SRC, dst: PACKET_DST } = PACKET_ADDRESS_SQL;

/** `expr IN (names)`, each name bound. */
const namesIn = (expr: SqlFragment, names: readonly string[]): SqlFragment =>
  sql`${expr} IN (${join(
    names.map((n) => sql`${n}`),
    ', ',
    'NULL',
  )})`;

/** Either end's AWS service: the record's own pkt-*-aws-service (v5) wins; else the snapshot names the address. */
function awsServiceMatch(v: ReferenceNames): SqlFragment {
  const end = (logged: string, addr: string): SqlFragment =>
    v.table ? sql`coalesce(${raw(logged)}, ${awsServiceOfSql(addr, v.table)})` : raw(logged);
  return sql`(${namesIn(end('pkt_src_aws_service', PACKET_SRC), v.names)} OR ${namesIn(end('pkt_dst_aws_service', PACKET_DST), v.names)})`;
}

/** Either end is in one of your networks of these names (nothing matches without a networks snapshot). */
function networkMatch(v: ReferenceNames): SqlFragment {
  if (!v.table) return raw('FALSE');
  return sql`(${namesIn(networkNameOfSql(PACKET_SRC, v.table), v.names)} OR ${namesIn(networkNameOfSql(PACKET_DST, v.table), v.names)})`;
}

// A record's span in seconds; null without an end time, so a duration threshold does not pass it.
const durationSql = raw('(epoch(end_time) - epoch(start_time))');

/**
 * Every filter field's condition over flow records, typed over FILTER_FIELDS: a new field does not compile until it
 * says what it means here. Each reads only the columns its FILTER_FIELDS entry lists (a test checks), so routing to
 * flows_hourly by those columns is exact.
 */
const RECORD_CONDITIONS: { readonly [K in FilterField]-?: (value: NonNullable<FlowFilter[K]>) => SqlFragment } = {
  accountIds: (v) => inList('account_id', v),
  regions: (v) => inList('region', v),
  vpcIds: (v) => inList('vpc_id', v),
  subnetIds: (v) => inList('subnet_id', v),
  instanceIds: (v) => inList('instance_id', v),
  interfaceIds: (v) => inList('interface_id', v),
  srcAddr: (v) => addressMatchSql('srcaddr', v),
  dstAddr: (v) => addressMatchSql('dstaddr', v),
  addr: (v) => eitherAddress(v),
  notSrcAddr: (v) => not(addressMatchSql('srcaddr', v)),
  notDstAddr: (v) => not(addressMatchSql('dstaddr', v)),
  notAddr: (v) => not(eitherAddress(v)),
  srcPort: (v) => portMatch('srcport', v),
  dstPort: (v) => portMatch('dstport', v),
  port: (v) => eitherPort(v),
  notSrcPort: (v) => not(portMatch('srcport', v)),
  notDstPort: (v) => not(portMatch('dstport', v)),
  notPorts: (v) => not(eitherPort(v)),
  protocols: (v) => inList('protocol', v),
  notProtocols: (v) => not(inList('protocol', v)),
  actions: (v) => inList('action', v),
  logStatuses: (v) => inList('log_status', v),
  tcpFlags: ({ any, all, none }) => {
    const tests: SqlFragment[] = [];
    if (any) tests.push(sql`(tcp_flags & ${any}) <> 0`);
    if (all) tests.push(sql`(tcp_flags & ${all}) = ${all}`);
    if (none) tests.push(sql`coalesce((tcp_flags & ${none}) = 0, TRUE)`);
    return join(tests, ' AND ', 'TRUE');
  },
  flowDirections: (v) => inList('flow_direction', v),
  trafficPaths: (v) => inList('traffic_path', v),
  pktSrcAwsServices: (v) => inList('pkt_src_aws_service', v),
  pktDstAwsServices: (v) => inList('pkt_dst_aws_service', v),
  awsServices: (v) => awsServiceMatch(v),
  networks: (v) => networkMatch(v),
  // The logging end: the other end of a record is only an address (its own records carry its tags).
  tag: (v) => endTaggedSql(v, endKeySql('instance_id', 'interface_id'), 'start_time'),
  minBytes: (v) => sql`bytes >= ${v}`,
  maxBytes: (v) => sql`bytes <= ${v}`,
  minPackets: (v) => sql`packets >= ${v}`,
  maxPackets: (v) => sql`packets <= ${v}`,
  minDurationSeconds: (v) => sql`${durationSql} >= ${v}`,
  maxDurationSeconds: (v) => sql`${durationSql} <= ${v}`,
};

/** The condition of one set filter field over flow records (exported for the column check of the tests). */
export function recordConditionSql<K extends FilterField>(field: K, value: NonNullable<FlowFilter[K]>): SqlFragment {
  // The table is typed per field; indexing it by a union loses the pairing of key and value, which K guarantees.
  const condition = RECORD_CONDITIONS[field] as (v: NonNullable<FlowFilter[K]>) => SqlFragment;
  return condition(value);
}

/** The WHERE conditions of a filter over the flows columns (including the hive columns account_id/region/date). */
export function flowFilterSql(f: FlowFilter): SqlFragment {
  const w = windowSql(f);
  for (const field of FILTER_FIELD_NAMES) {
    const value = f[field];
    if (value !== null) w.push(recordConditionSql(field, value as never));
  }
  return join(w, '\n  AND ');
}

/**
 * The manifest files of `table` a filter can match: by account (filter and tenant scope), region and the UTC dates of
 * the time range. Done in JS so DuckDB never opens (or even lists) the others.
 */
export function prunePartitions(
  files: readonly ManifestFile[],
  f: FlowFilter,
  table: TableName = 'flows',
): ManifestFile[] {
  const dates = datesInRange(f.timeRange);
  const first = dates[0] ?? '';
  const last = dates[dates.length - 1] ?? '';
  const accounts = f.accountIds ? new Set(f.accountIds) : null;
  const scope = f.scopeAccountIds ? new Set(f.scopeAccountIds) : null;
  const regions = f.regions ? new Set(f.regions) : null;
  return files.filter(
    (file) =>
      file.table === table &&
      file.date >= first &&
      file.date <= last &&
      (!accounts || accounts.has(file.accountId)) &&
      (!scope || scope.has(file.accountId)) &&
      (!regions || regions.has(file.region)),
  );
}
