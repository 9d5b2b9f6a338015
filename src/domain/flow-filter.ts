/**
 * The validated flow filter every flow question takes (flows, aggregates, handshakes, edges), and its validation.
 * Pure: callers (GraphQL, CLI) pass raw input; the store turns a `FlowFilter` into SQL and a pruned file list.
 *
 * Semantics (documented in the GraphQL schema too):
 * - Time: a record matches when `from <= start_time < to` (half-open, UTC). Partitions are pruned by the UTC dates
 *   the window touches. Omitted window: the 24 hours ending at `latestDataEnd` (the end of the newest UTC day in the
 *   warehouse) or at `now` on an empty warehouse; with only `from`, it ends at `now`; with only `to`, it starts 24 hours
 *   earlier. Relative windows: `last` (an ISO-8601 duration) ends at `to` or now; `latestDay` is the newest UTC day
 *   with data (the current UTC day on an empty warehouse). The window may not exceed `maxRangeMs` (31 days by default).
 * - Lists are ORed within a field and fields are ANDed. `addr`/`port` match either side of the flow.
 * - Negations (`not...`) keep records whose value is null (a NODATA record has no address, so it is "not in" a CIDR).
 */
import { ADDRESS_BLOCK_EXPECTED, parseAddressBlock, type AddressBlock } from './cidr.ts';
import { TCP_FLAGS } from './fields.ts';
import { assertAccountsAllowed } from './forbidden-error.ts';
import { InputError } from './input-error.ts';
import { ISO_DURATION_EXPECTED, parseIsoDuration } from './iso-duration.ts';
import type { TcpFlagName } from './tcp-flags.ts';

/** Record actions. */
export const FLOW_ACTIONS = ['ACCEPT', 'REJECT'] as const;
export type FlowAction = (typeof FLOW_ACTIONS)[number];
/** Record log statuses. */
export const LOG_STATUSES = ['OK', 'NODATA', 'SKIPDATA'] as const;
export type LogStatus = (typeof LOG_STATUSES)[number];
/** Values of `flow-direction`, as stored. */
export const FLOW_DIRECTIONS = ['ingress', 'egress'] as const;
export type FlowDirection = (typeof FLOW_DIRECTIONS)[number];

/** Half-open UTC window on `start_time`. */
export interface TimeRange {
  readonly from: Date;
  readonly to: Date;
}

/** Inclusive port range; a single port has from === to. */
export interface PortRange {
  readonly from: number;
  readonly to: number;
}

/** TCP flag tests as bit masks; 0 means "no test". */
export interface TcpFlagsMatch {
  /** At least one of these bits is set. */
  readonly any: number;
  /** All of these bits are set. */
  readonly all: number;
  /** None of these bits is set (records without tcp-flags are kept). */
  readonly none: number;
}

type List<T> = readonly T[] | null;

/** A validated filter; `null` means "no condition". */
export interface FlowFilter {
  readonly timeRange: TimeRange;
  readonly accountIds: List<string>;
  readonly regions: List<string>;
  readonly vpcIds: List<string>;
  readonly subnetIds: List<string>;
  readonly instanceIds: List<string>;
  readonly interfaceIds: List<string>;
  readonly srcAddr: List<AddressBlock>;
  readonly dstAddr: List<AddressBlock>;
  readonly addr: List<AddressBlock>;
  readonly notSrcAddr: List<AddressBlock>;
  readonly notDstAddr: List<AddressBlock>;
  readonly notAddr: List<AddressBlock>;
  readonly srcPort: List<PortRange>;
  readonly dstPort: List<PortRange>;
  readonly port: List<PortRange>;
  readonly notSrcPort: List<PortRange>;
  readonly notDstPort: List<PortRange>;
  readonly notPorts: List<PortRange>;
  readonly protocols: List<number>;
  readonly notProtocols: List<number>;
  readonly actions: List<FlowAction>;
  readonly logStatuses: List<LogStatus>;
  readonly tcpFlags: TcpFlagsMatch | null;
  readonly flowDirections: List<FlowDirection>;
  readonly trafficPaths: List<number>;
  readonly pktSrcAwsServices: List<string>;
  readonly pktDstAwsServices: List<string>;
  /** Tenant allow-list of accounts (from the API key, later): always ANDed in, even when `accountIds` is set. */
  readonly scopeAccountIds: List<string>;
}

/** Raw filter input as a caller sends it; every field optional. Unknown shapes are rejected by validation. */
export type FlowFilterInput = { readonly [K in keyof Omit<FlowFilter, 'scopeAccountIds'>]?: unknown };

/** Context validation needs and that is not part of the input. */
export interface FlowFilterOptions {
  /** Argument name used as the path prefix in errors (default `filter`). */
  readonly argument?: string;
  readonly now?: Date;
  /** End of the newest UTC day with data; the default window ends here. */
  readonly latestDataEnd?: Date | null;
  /** Longest window allowed (default 31 days). */
  readonly maxRangeMs?: number;
  /** Tenant allow-list, copied into `scopeAccountIds`. */
  readonly scopeAccountIds?: readonly string[] | null;
}

const HOUR = 3_600_000;
/** Default longest time window: 31 days. */
export const DEFAULT_MAX_RANGE_MS = 31 * 24 * HOUR;
/** Default window length when the caller gives no `from`. */
export const DEFAULT_WINDOW_MS = 24 * HOUR;
/** Longest list a filter field accepts (keeps statements and parameter lists bounded). */
export const MAX_FILTER_LIST = 1000;

const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;
const ISO_EXPECTED = 'an ISO-8601 date-time such as 2024-05-01T12:00:00Z (UTC when no offset is given)';

/** Parses strict ISO-8601 (date, or date-time with optional offset; UTC when none); null when malformed. */
export function parseIsoDateTime(text: string): Date | null {
  const m = ISO_8601.exec(text.trim());
  if (!m) return null;
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone] = m;
  const [month, day, hour, minute, second] = [Number(mo), Number(d), Number(h), Number(mi), Number(s)];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return null;
  const ms = frac ? Math.floor(Number(`0${frac}`) * 1000) : 0;
  let t = Date.UTC(Number(y), month - 1, day, hour, minute, second, ms);
  if (new Date(Date.UTC(Number(y), month - 1, day)).getUTCDate() !== day) return null; // 2024-02-30
  if (zone && zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    t -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  return new Date(t);
}

function list<T>(raw: unknown, path: string, expected: string, parse: (v: unknown, p: string) => T): List<T> {
  if (raw === undefined || raw === null) return null;
  if (!Array.isArray(raw)) throw new InputError(path, `a list of ${expected}`, raw);
  if (raw.length > MAX_FILTER_LIST)
    throw new InputError(path, `at most ${MAX_FILTER_LIST} values`, `${raw.length} values`);
  return raw.map((v, i) => parse(v, `${path}[${i}]`));
}

function pattern(re: RegExp, expected: string) {
  return (v: unknown, p: string): string => {
    if (typeof v !== 'string' || !re.test(v)) throw new InputError(p, expected, v);
    return v;
  };
}

function oneOf<T extends string>(values: readonly T[]) {
  return (v: unknown, p: string): T => {
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
      throw new InputError(p, `one of ${values.join(', ')}`, v);
    }
    return v as T;
  };
}

function intIn(min: number, max: number, what: string) {
  return (v: unknown, p: string): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new InputError(p, `${what}: an integer from ${min} to ${max}`, v);
    }
    return v;
  };
}

const port = intIn(0, 65535, 'a port');

function portRange(v: unknown, p: string): PortRange {
  if (typeof v !== 'object' || v === null) throw new InputError(p, 'a port range { from, to }', v);
  const r = v as { from?: unknown; to?: unknown };
  const from = port(r.from, `${p}.from`);
  const to = r.to === undefined || r.to === null ? from : port(r.to, `${p}.to`);
  if (to < from) throw new InputError(`${p}.to`, `a port >= from (${from})`, to);
  return { from, to };
}

function addressBlock(v: unknown, p: string): AddressBlock {
  const block = typeof v === 'string' ? parseAddressBlock(v) : null;
  if (!block) throw new InputError(p, ADDRESS_BLOCK_EXPECTED, v);
  return block;
}

const accountId = pattern(/^(\d{12}|unknown)$/, 'a 12-digit AWS account id (or "unknown")');
const region = pattern(/^([a-z]{2}(-[a-z]+)+-\d{1,2}|unknown)$/, 'an AWS region such as us-east-1 (or "unknown")');
const awsId = (prefix: string) =>
  pattern(new RegExp(`^${prefix}-[0-9a-f]{8,17}$`), `an id like ${prefix}-0123456789abcdef0`);
const awsService = pattern(/^[A-Z0-9_]{1,64}$/, 'an AWS service name as flow logs write it (e.g. S3, AMAZON, EC2)');
const tcpFlagName = oneOf(Object.keys(TCP_FLAGS) as TcpFlagName[]);

function flagMask(raw: unknown, p: string): number {
  const names = list(raw, p, 'TCP flag names', tcpFlagName) ?? [];
  return names.reduce((mask, n) => mask | TCP_FLAGS[n], 0);
}

function tcpFlags(raw: unknown, p: string): TcpFlagsMatch | null {
  if (raw === undefined || raw === null) return null;
  if (typeof raw !== 'object') throw new InputError(p, 'an object { any, all, none } of TCP flag lists', raw);
  const r = raw as { any?: unknown; all?: unknown; none?: unknown };
  const match = {
    any: flagMask(r.any, `${p}.any`),
    all: flagMask(r.all, `${p}.all`),
    none: flagMask(r.none, `${p}.none`),
  };
  return match.any || match.all || match.none ? match : null;
}

function time(v: unknown, p: string): Date | null {
  if (v === undefined || v === null) return null;
  if (v instanceof Date && !Number.isNaN(v.getTime())) return v;
  const d = typeof v === 'string' ? parseIsoDateTime(v) : null;
  if (!d) throw new InputError(p, ISO_EXPECTED, v);
  return d;
}

const DAY = 24 * HOUR;

/** `[end - length, end)`, with `end` the start of the UTC day after `t` unless `t` already is a day boundary. */
function dayEndingAt(t: Date): TimeRange {
  const end = Math.ceil(t.getTime() / DAY) * DAY;
  return { from: new Date(end - DAY), to: new Date(end) };
}

/**
 * The window of `{ from, to, last, latestDay }`. Absolute (`from`/`to`) or relative: `last` is a fixed-length ISO-8601
 * duration ending at `to` or now, so a saved query keeps meaning "the last 24 hours"; `latestDay` is the newest UTC
 * day with data, so an example answers on any warehouse whatever today's date is.
 */
function timeRange(raw: unknown, p: string, o: FlowFilterOptions): TimeRange {
  if (raw !== undefined && raw !== null && (typeof raw !== 'object' || Array.isArray(raw))) {
    throw new InputError(p, 'an object { from, to, last, latestDay }', raw);
  }
  const r = (raw ?? {}) as { from?: unknown; to?: unknown; last?: unknown; latestDay?: unknown };
  const now = o.now ?? new Date();
  const givenFrom = time(r.from, `${p}.from`);
  const givenTo = time(r.to, `${p}.to`);
  const last = duration(r.last, `${p}.last`);
  const latestDay = r.latestDay ?? null;
  if (latestDay !== null && typeof latestDay !== 'boolean')
    throw new InputError(`${p}.latestDay`, 'true or false', latestDay);
  let range: TimeRange;
  if (latestDay) {
    const other = givenFrom ? 'from' : givenTo ? 'to' : last !== null ? 'last' : null;
    if (other) throw new InputError(`${p}.${other}`, 'no from, to or last with latestDay: true (it is a whole day)');
    range = dayEndingAt(o.latestDataEnd ?? now);
  } else if (last !== null) {
    if (givenFrom)
      throw new InputError(`${p}.from`, 'no from with last (the window is `last` before `to`, or before now)');
    // Checked before subtracting: a duration of millions of weeks would put `from` before any valid Date.
    if (last > (o.maxRangeMs ?? DEFAULT_MAX_RANGE_MS)) throw windowTooLong(p, o, r.last);
    const to = givenTo ?? now;
    range = { from: new Date(to.getTime() - last), to };
  } else {
    const to = givenTo ?? (givenFrom ? now : (o.latestDataEnd ?? now));
    range = { from: givenFrom ?? new Date(to.getTime() - DEFAULT_WINDOW_MS), to };
  }
  const { from, to } = range;
  if (from.getTime() >= to.getTime()) {
    throw new InputError(p, `from before to`, `from ${from.toISOString()}, to ${to.toISOString()}`);
  }
  if (to.getTime() - from.getTime() > (o.maxRangeMs ?? DEFAULT_MAX_RANGE_MS)) {
    throw windowTooLong(p, o, `${from.toISOString()} to ${to.toISOString()}`);
  }
  return range;
}

function windowTooLong(p: string, o: FlowFilterOptions, found: unknown): InputError {
  const maxRangeMs = o.maxRangeMs ?? DEFAULT_MAX_RANGE_MS;
  const days = (maxRangeMs / DAY).toFixed(maxRangeMs % DAY === 0 ? 0 : 2);
  return new InputError(
    p,
    `a window of at most ${days} days (the server's --max-range-days, FLOWQL_MAX_RANGE_DAYS)`,
    found,
  );
}

function duration(v: unknown, p: string): number | null {
  if (v === undefined || v === null) return null;
  const ms = typeof v === 'string' ? parseIsoDuration(v) : null;
  if (ms === null) throw new InputError(p, ISO_DURATION_EXPECTED, v);
  return ms;
}

const KNOWN_FIELDS = new Set([
  'timeRange',
  'accountIds',
  'regions',
  'vpcIds',
  'subnetIds',
  'instanceIds',
  'interfaceIds',
  'srcAddr',
  'dstAddr',
  'addr',
  'notSrcAddr',
  'notDstAddr',
  'notAddr',
  'srcPort',
  'dstPort',
  'port',
  'notSrcPort',
  'notDstPort',
  'notPorts',
  'protocols',
  'notProtocols',
  'actions',
  'logStatuses',
  'tcpFlags',
  'flowDirections',
  'trafficPaths',
  'pktSrcAwsServices',
  'pktDstAwsServices',
]);

/** Validates raw filter input; throws `InputError` naming the first bad argument (e.g. `filter.srcAddr[0]`). */
export function validateFlowFilter(raw: unknown, options: FlowFilterOptions = {}): FlowFilter {
  const a = options.argument ?? 'filter';
  if (raw === undefined || raw === null) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new InputError(a, 'a filter object', raw);
  const r = raw as Record<string, unknown>;
  for (const key of Object.keys(r)) {
    if (!KNOWN_FIELDS.has(key))
      throw new InputError(`${a}.${key}`, `one of the filter fields ${[...KNOWN_FIELDS].join(', ')}`);
  }
  const addrs = (k: string) => list(r[k], `${a}.${k}`, 'addresses or CIDR blocks', addressBlock);
  const ports = (k: string) => list(r[k], `${a}.${k}`, 'port ranges', portRange);
  const protocol = intIn(0, 255, 'an IANA protocol number');
  const accountIds = list(r.accountIds, `${a}.accountIds`, 'account ids', accountId);
  // Tenant isolation: naming an account outside the key's allow-list is refused, not answered with nothing.
  assertAccountsAllowed(options.scopeAccountIds, accountIds, `${a}.accountIds`);
  return {
    timeRange: timeRange(r.timeRange, `${a}.timeRange`, options),
    accountIds,
    regions: list(r.regions, `${a}.regions`, 'regions', region),
    vpcIds: list(r.vpcIds, `${a}.vpcIds`, 'VPC ids', awsId('vpc')),
    subnetIds: list(r.subnetIds, `${a}.subnetIds`, 'subnet ids', awsId('subnet')),
    instanceIds: list(r.instanceIds, `${a}.instanceIds`, 'instance ids', awsId('i')),
    interfaceIds: list(r.interfaceIds, `${a}.interfaceIds`, 'interface ids', awsId('eni')),
    srcAddr: addrs('srcAddr'),
    dstAddr: addrs('dstAddr'),
    addr: addrs('addr'),
    notSrcAddr: addrs('notSrcAddr'),
    notDstAddr: addrs('notDstAddr'),
    notAddr: addrs('notAddr'),
    srcPort: ports('srcPort'),
    dstPort: ports('dstPort'),
    port: ports('port'),
    notSrcPort: ports('notSrcPort'),
    notDstPort: ports('notDstPort'),
    notPorts: ports('notPorts'),
    protocols: list(r.protocols, `${a}.protocols`, 'protocol numbers', protocol),
    notProtocols: list(r.notProtocols, `${a}.notProtocols`, 'protocol numbers', protocol),
    actions: list(r.actions, `${a}.actions`, 'actions', oneOf(FLOW_ACTIONS)),
    logStatuses: list(r.logStatuses, `${a}.logStatuses`, 'log statuses', oneOf(LOG_STATUSES)),
    tcpFlags: tcpFlags(r.tcpFlags, `${a}.tcpFlags`),
    flowDirections: list(r.flowDirections, `${a}.flowDirections`, 'flow directions', oneOf(FLOW_DIRECTIONS)),
    trafficPaths: list(r.trafficPaths, `${a}.trafficPaths`, 'traffic paths', intIn(1, 8, 'a traffic path')),
    pktSrcAwsServices: list(r.pktSrcAwsServices, `${a}.pktSrcAwsServices`, 'AWS service names', awsService),
    pktDstAwsServices: list(r.pktDstAwsServices, `${a}.pktDstAwsServices`, 'AWS service names', awsService),
    scopeAccountIds: options.scopeAccountIds ?? null,
  };
}

/** UTC dates (YYYY-MM-DD) a time range touches, oldest first: the partitions a query must read. */
export function datesInRange(range: TimeRange): string[] {
  const dates: string[] = [];
  const day = 24 * HOUR;
  const last = Math.floor((range.to.getTime() - 1) / day);
  for (let d = Math.floor(range.from.getTime() / day); d <= last; d++)
    dates.push(new Date(d * day).toISOString().slice(0, 10));
  return dates;
}
