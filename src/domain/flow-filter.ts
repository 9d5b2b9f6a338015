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
import { FILTER_FIELD_NAMES, FILTER_FIELDS, type FilterField, type FilterFieldValues } from './filter-fields.ts';
import type { ReferenceNames } from './filter-values.ts';
import { assertAccountsAllowed } from './forbidden-error.ts';
import { InputError } from './input-error.ts';
import { ISO_DURATION_EXPECTED, parseIsoDuration } from './iso-duration.ts';
import type { ReferenceKind } from './reference-tables.ts';

export {
  FLOW_ACTIONS,
  FLOW_DIRECTIONS,
  LOG_STATUSES,
  MAX_FILTER_LIST,
  type FlowAction,
  type FlowDirection,
  type LogStatus,
  type PortRange,
  type TcpFlagsMatch,
} from './filter-values.ts';

/** Half-open UTC window on `start_time`. */
export interface TimeRange {
  readonly from: Date;
  readonly to: Date;
}

/**
 * A validated filter; `null` means "no condition". Its fields are those of FILTER_FIELDS (src/domain/filter-fields.ts),
 * each typed by what its validator returns, plus the window and the tenant scope.
 */
export type FlowFilter = FilterFieldValues & {
  readonly timeRange: TimeRange;
  /** Tenant allow-list of accounts (from the API key): always ANDed in, even when `accountIds` is set. */
  readonly scopeAccountIds: readonly string[] | null;
};

/** Raw filter input as a caller sends it; every field optional. Unknown shapes are rejected by validation. */
export type FlowFilterInput = { readonly [K in FilterField | 'timeRange']?: unknown };

/** Context validation needs and that is not part of the input. */
export interface FlowFilterOptions {
  /** Argument name used as the path prefix in errors (default `filter`). */
  readonly argument?: string;
  readonly now?: Date;
  /** End of the newest UTC day with data; the default window ends here. */
  readonly latestDataEnd?: Date | null;
  /** Longest window allowed (default 31 days). */
  readonly maxRangeMs?: number;
  /**
   * Which server setting `maxRangeMs` is, for the error (default RECORD_RANGE_SETTING): aggregates the rollup tiers
   * answer are bounded by TIER_RANGE_SETTING instead (src/questions/aggregate-reader.ts checks the rest).
   */
  readonly maxRangeSetting?: string;
  /** Tenant allow-list, copied into `scopeAccountIds`. */
  readonly scopeAccountIds?: readonly string[] | null;
  /** Absolute paths of the live reference snapshots, for the fields that look names up (awsServices, networks). */
  readonly referenceTables?: Partial<Readonly<Record<ReferenceKind, string>>>;
  /** Absolute paths of the live inventory snapshots, for the `tag` field. */
  readonly inventorySnapshots?: readonly string[];
}

const HOUR = 3_600_000;
/** Default longest time window: 31 days. */
export const DEFAULT_MAX_RANGE_MS = 31 * 24 * HOUR;
/** Default longest window of an aggregate the rollup tiers (flows_hourly, flows_daily) answer: 400 days. */
export const DEFAULT_MAX_TIER_RANGE_MS = 400 * 24 * HOUR;
/** The setting bounding windows of questions that read flow records, as errors name it. */
export const RECORD_RANGE_SETTING = "the server's --max-range-days, FLOWQL_MAX_RANGE_DAYS";
/** The setting bounding windows of aggregates the rollup tiers answer, as errors name it. */
export const TIER_RANGE_SETTING =
  "the server's --max-tier-range-days, FLOWQL_MAX_TIER_RANGE_DAYS, for aggregates the rollup tiers answer";
/** Default window length when the caller gives no `from`. */
export const DEFAULT_WINDOW_MS = 24 * HOUR;

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
function timeRangeOf(raw: unknown, p: string, o: FlowFilterOptions): TimeRange {
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
  return new InputError(
    p,
    `a window of at most ${daysText(maxRangeMs)} (${o.maxRangeSetting ?? RECORD_RANGE_SETTING})`,
    found,
  );
}

const daysText = (ms: number): string => `${(ms / DAY).toFixed(ms % DAY === 0 ? 0 : 2)} days`;

/**
 * The error of an aggregate whose window the tiers' bound allowed but which must read flow records (`reason`): its
 * window is held to the records' bound, RECORD_RANGE_SETTING.
 */
export function recordWindowTooLong(
  filter: FlowFilter,
  maxRangeMs: number,
  reason: string,
  argument = 'filter',
  reads = 'flow records',
): InputError {
  const { from, to } = filter.timeRange;
  return new InputError(
    `${argument}.timeRange`,
    `a window of at most ${daysText(maxRangeMs)} (${RECORD_RANGE_SETTING}) for this question: it reads ${reads} ` +
      `because ${reason}`,
    `${from.toISOString()} to ${to.toISOString()}`,
  );
}

function duration(v: unknown, p: string): number | null {
  if (v === undefined || v === null) return null;
  const ms = typeof v === 'string' ? parseIsoDuration(v) : null;
  if (ms === null) throw new InputError(p, ISO_DURATION_EXPECTED, v);
  return ms;
}

const KNOWN_FIELDS: readonly string[] = ['timeRange', ...FILTER_FIELD_NAMES];

/** The thresholds given as a min and a max of one value. */
const THRESHOLD_PAIRS = [
  ['minBytes', 'maxBytes'],
  ['minPackets', 'maxPackets'],
  ['minDurationSeconds', 'maxDurationSeconds'],
] as const satisfies readonly (readonly [FilterField, FilterField])[];

/** Validates raw filter input; throws `InputError` naming the first bad argument (e.g. `filter.srcAddr[0]`). */
export function validateFlowFilter(raw: unknown, options: FlowFilterOptions = {}): FlowFilter {
  const a = options.argument ?? 'filter';
  if (raw === undefined || raw === null) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new InputError(a, 'a filter object', raw);
  const r = raw as Record<string, unknown>;
  for (const key of Object.keys(r)) {
    if (!KNOWN_FIELDS.includes(key))
      throw new InputError(`${a}.${key}`, `one of the filter fields ${KNOWN_FIELDS.join(', ')}`);
  }
  const timeRange = timeRangeOf(r.timeRange, `${a}.timeRange`, options);
  const fields: Partial<Record<FilterField, unknown>> = {};
  for (const name of FILTER_FIELD_NAMES) fields[name] = FILTER_FIELDS[name].validate(r[name], `${a}.${name}`);
  const values = fields as FilterFieldValues;
  // A threshold's max below its min selects nothing: refused, as a port range whose `to` is below its `from`.
  for (const [min, max] of THRESHOLD_PAIRS) {
    const [lo, hi] = [values[min], values[max]];
    if (lo !== null && hi !== null && hi < lo)
      throw new InputError(`${a}.${max}`, `a value at least ${min} (${lo})`, String(hi));
  }
  // Tenant isolation: naming an account outside the key's allow-list is refused, not answered with nothing.
  assertAccountsAllowed(options.scopeAccountIds, values.accountIds, `${a}.accountIds`);
  const bind = (v: ReferenceNames | null, kind: ReferenceKind): ReferenceNames | null =>
    v && { names: v.names, table: options.referenceTables?.[kind] ?? null };
  return {
    ...values,
    awsServices: bind(values.awsServices, 'ip_ranges'),
    networks: bind(values.networks, 'networks'),
    // A tenant's key reads the tags of its own accounts' resources only.
    tag: values.tag && {
      ...values.tag,
      snapshots: options.inventorySnapshots ?? [],
      accounts: options.scopeAccountIds ?? null,
    },
    timeRange,
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
