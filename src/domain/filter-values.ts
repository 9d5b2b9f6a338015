/**
 * What the flow filter's fields take: their value types, the checks that turn raw input into those values (each
 * throws an InputError naming the argument path), and the text forms dataset URLs write them in. FILTER_FIELDS
 * (filter-fields.ts) picks one of each per field.
 */
import { ADDRESS_BLOCK_EXPECTED, parseAddressBlock, type AddressBlock } from './cidr.ts';
import { TCP_FLAGS } from './fields.ts';
import { InputError } from './input-error.ts';
import { protocolNumber } from './protocols.ts';
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

export type List<T> = readonly T[] | null;

/**
 * Names looked up in a reference table (src/domain/reference-tables.ts): the names asked for, and the absolute path of
 * the live snapshot the condition reads. Validation leaves `table` null; validateFlowFilter sets it from its options
 * (the request's manifest), so a filter built without a snapshot matches by the records' own values only.
 */
export interface ReferenceNames {
  readonly names: readonly string[];
  readonly table: string | null;
}

/** Longest list a filter field accepts (keeps statements and parameter lists bounded). */
export const MAX_FILTER_LIST = 1000;

/** Largest value of a byte or packet threshold: a stored record's bytes fit a signed 64-bit integer. */
const BIGINT_MAX = 2n ** 63n - 1n;

export function list<T>(expected: string, parse: (v: unknown, p: string) => T) {
  return (raw: unknown, path: string): List<T> => {
    if (raw === undefined || raw === null) return null;
    if (!Array.isArray(raw)) throw new InputError(path, `a list of ${expected}`, raw);
    if (raw.length > MAX_FILTER_LIST) {
      throw new InputError(path, `at most ${MAX_FILTER_LIST} values`, `${raw.length} values`);
    }
    return raw.map((v, i) => parse(v, `${path}[${i}]`));
  };
}

export function pattern(re: RegExp, expected: string) {
  return (v: unknown, p: string): string => {
    if (typeof v !== 'string' || !re.test(v)) throw new InputError(p, expected, v);
    return v;
  };
}

export function oneOf<T extends string>(values: readonly T[]) {
  return (v: unknown, p: string): T => {
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
      throw new InputError(p, `one of ${values.join(', ')}`, v);
    }
    return v as T;
  };
}

export function intIn(min: number, max: number, what: string) {
  return (v: unknown, p: string): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new InputError(p, `${what}: an integer from ${min} to ${max}`, v);
    }
    return v;
  };
}

export const port = intIn(0, 65535, 'a port');
export const protocol = intIn(0, 255, 'an IANA protocol number');

export function portRange(v: unknown, p: string): PortRange {
  if (typeof v !== 'object' || v === null) throw new InputError(p, 'a port range { from, to }', v);
  const r = v as { from?: unknown; to?: unknown };
  const from = port(r.from, `${p}.from`);
  const to = r.to === undefined || r.to === null ? from : port(r.to, `${p}.to`);
  if (to < from) throw new InputError(`${p}.to`, `a port >= from (${from})`, to);
  return { from, to };
}

export function addressBlock(v: unknown, p: string): AddressBlock {
  const block = typeof v === 'string' ? parseAddressBlock(v) : null;
  if (!block) throw new InputError(p, ADDRESS_BLOCK_EXPECTED, v);
  return block;
}

export const accountId = pattern(/^(\d{12}|unknown)$/, 'a 12-digit AWS account id (or "unknown")');
export const region = pattern(
  /^([a-z]{2}(-[a-z]+)+-\d{1,2}|unknown)$/,
  'an AWS region such as us-east-1 (or "unknown")',
);
export const awsId = (prefix: string) =>
  pattern(new RegExp(`^${prefix}-[0-9a-f]{8,17}$`), `an id like ${prefix}-0123456789abcdef0`);
export const awsService = pattern(
  /^[A-Z0-9_]{1,64}$/,
  'an AWS service name as flow logs write it (e.g. S3, AMAZON, EC2)',
);
export const networkName = (v: unknown, p: string): string => {
  if (typeof v !== 'string' || v.trim() === '' || v.length > 128) throw new InputError(p, 'a network name', v);
  return v;
};
export function referenceNames(expected: string, parse: (v: unknown, p: string) => string) {
  const names = list(expected, parse);
  return (raw: unknown, path: string): ReferenceNames | null => {
    const v = names(raw, path);
    return v === null ? null : { names: v, table: null };
  };
}
/**
 * A tag that an end must carry (`{ key: "team", values: ["payments"] }`), looked up in the inventory snapshots at the
 * record's (or connection's) time. Validation leaves `snapshots` empty and `accounts` null; validateFlowFilter sets
 * them from its options (the request's manifest and tenant scope), so a filter built without inventory matches nothing.
 */
export interface TagMatch {
  readonly key: string;
  readonly values: readonly string[];
  /** Absolute paths of the live inventory snapshots. */
  readonly snapshots: readonly string[];
  /** The accounts whose resources' tags the request may read (the tenant scope); null: every account. */
  readonly accounts: readonly string[] | null;
}

/** An AWS tag key: 1 to 128 characters. */
export const tagKey = (v: unknown, p: string): string => {
  if (typeof v !== 'string' || v === '' || v.length > 128) throw new InputError(p, 'a tag key (1-128 characters)', v);
  return v;
};
const tagValue = (v: unknown, p: string): string => {
  if (typeof v !== 'string' || v.length > 256) throw new InputError(p, 'a tag value (at most 256 characters)', v);
  return v;
};
const tagValues = list('tag values', tagValue);

/** `{ key, values }`: a key with at least one value (a URL gives `tagKey=team&tagValue=payments`). */
export function tagMatch(raw: unknown, p: string): TagMatch | null {
  if (raw === undefined || raw === null) return null;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new InputError(p, 'a tag { key, values }', raw);
  const r = raw as { key?: unknown; values?: unknown };
  const key = tagKey(r.key, `${p}.key`);
  const values = tagValues(r.values, `${p}.values`);
  if (!values || values.length === 0) throw new InputError(`${p}.values`, 'at least one tag value', r.values);
  return { key, values, snapshots: [], accounts: null };
}
export const tcpFlagName = oneOf(Object.keys(TCP_FLAGS) as TcpFlagName[]);
export const addresses = list('addresses or CIDR blocks', addressBlock);
export const portRanges = list('port ranges', portRange);

export function tcpFlags(raw: unknown, p: string): TcpFlagsMatch | null {
  if (raw === undefined || raw === null) return null;
  if (typeof raw !== 'object') throw new InputError(p, 'an object { any, all, none } of TCP flag lists', raw);
  const r = raw as { any?: unknown; all?: unknown; none?: unknown };
  const mask = (names: unknown, path: string): number =>
    (list('TCP flag names', tcpFlagName)(names, path) ?? []).reduce((m, n) => m | TCP_FLAGS[n], 0);
  const match = { any: mask(r.any, `${p}.any`), all: mask(r.all, `${p}.all`), none: mask(r.none, `${p}.none`) };
  return match.any || match.all || match.none ? match : null;
}

/** A byte or packet threshold: a whole number from 0 to 2^63 - 1 (a GraphQL BigInt, a JSON number or digits). */
export function count(what: string) {
  return (raw: unknown, p: string): bigint | null => {
    if (raw === undefined || raw === null) return null;
    const n =
      typeof raw === 'bigint'
        ? raw
        : typeof raw === 'number' && Number.isSafeInteger(raw)
          ? BigInt(raw)
          : typeof raw === 'string' && /^\d{1,19}$/.test(raw)
            ? BigInt(raw)
            : null;
    if (n === null || n < 0n || n > BIGINT_MAX)
      throw new InputError(p, `${what}: a whole number from 0 to ${BIGINT_MAX}`, raw);
    return n;
  };
}

/** A duration threshold in whole seconds (a flow record spans at most its aggregation interval plus delivery lag). */
export function seconds(raw: unknown, p: string): number | null {
  if (raw === undefined || raw === null) return null;
  return intIn(0, 366 * 86_400, 'seconds')(raw, p);
}

// Dataset URL text forms: `443` or `1024-65535`; `tcp` or `6`; enum values in any case.
export function portRangeText(v: string, param: string): unknown {
  const m = /^(\d+)(?:-(\d+))?$/.exec(v);
  if (!m) throw new InputError(param, 'a port or port range such as 443 or 1024-65535', v);
  return { from: Number(m[1]), to: m[2] === undefined ? Number(m[1]) : Number(m[2]) };
}
export const protocolText = (v: string): unknown => (/^\d+$/.test(v) ? Number(v) : (protocolNumber(v) ?? v));
export const integerText = (v: string): unknown => (/^-?\d+$/.test(v) ? Number(v) : v);
export const upper = (v: string): unknown => v.toUpperCase();
export const lower = (v: string): unknown => v.toLowerCase();
