/**
 * Reference tables: address prefixes that name the ends of flows. Two kinds, each stored as one versioned Parquet
 * file beside the warehouse and looked up at query time (so a new snapshot renames history):
 * - `ip_ranges`: AWS's published ip-ranges.json (https://ip-ranges.amazonaws.com/ip-ranges.json), which names the
 *   service and region of public AWS addresses;
 * - `networks`: your own networks (on-premises ranges, partner VPCs, office egress), CIDR -> name and attributes;
 * - `inventory`: EC2 instances and network interfaces as `aws ec2 describe-instances` / `describe-network-interfaces`
 *   print them (src/domain/inventory.ts), named by their Name tag. Unlike the other two, inventory snapshots
 *   accumulate: each is valid from its as-of time, so a resource is named by its owner at the record's time.
 * Pure: this module checks a parsed document and turns it into rows; reading files and writing Parquet is ingest's.
 */
import { parseAddressBlock, type AddressBlock } from './cidr.ts';

/** The reference tables, as the manifest and the ledger name them. */
export const REFERENCE_KINDS = ['ip_ranges', 'networks', 'inventory'] as const;
export type ReferenceKind = (typeof REFERENCE_KINDS)[number];

/** The kinds that name addresses by prefix: one live snapshot each, the newest replacing the one before. */
export const ADDRESS_REFERENCE_KINDS = ['ip_ranges', 'networks'] as const satisfies readonly ReferenceKind[];
export type AddressReferenceKind = (typeof ADDRESS_REFERENCE_KINDS)[number];

/** One CIDR block of a reference table, with the hex range the SQL lookup compares (see prefixHexRange). */
export interface PrefixRow {
  readonly family: 4 | 6;
  /** Canonical CIDR text (`52.216.0.0/15`). */
  readonly prefix: string;
  readonly prefixLen: number;
  readonly firstHex: string;
  readonly lastHex: string;
}

/** One entry of ip-ranges.json. */
export interface AwsRangeRow extends PrefixRow {
  readonly service: string;
  readonly region: string;
  readonly networkBorderGroup: string;
}

/** One key/value attribute of a network. */
export interface NetworkAttribute {
  readonly key: string;
  readonly value: string;
}

/** One of your own networks. */
export interface NetworkRow extends PrefixRow {
  readonly name: string;
  readonly attributes: readonly NetworkAttribute[];
}

/** A checked ip-ranges.json. */
export interface AwsIpRangesSnapshot {
  /** AWS's version of the file: publication time in epoch seconds, as text. */
  readonly syncToken: string;
  /** createDate as ISO-8601 UTC (AWS writes `2024-05-01-17-13-04`). */
  readonly createdAt: string;
  readonly rows: readonly AwsRangeRow[];
}

/** A reference file that cannot be imported; the message names the file and the entry. */
export class ReferenceFileError extends Error {
  override readonly name = 'ReferenceFileError';
}

/** The service AWS lists every address of its own under; a more specific service listing of the same prefix wins. */
export const AMAZON_SERVICE = 'AMAZON';

/**
 * Hex digits of a block's first and last address, fixed width per family (8 for IPv4, 32 for IPv6), so text order is
 * numeric order: the SQL side converts an address to the same form and compares it with BETWEEN.
 */
export function prefixHexRange(b: AddressBlock): { firstHex: string; lastHex: string } {
  const width = b.family === 4 ? 8 : 32;
  return { firstHex: b.first.toString(16).padStart(width, '0'), lastHex: b.last.toString(16).padStart(width, '0') };
}

function prefixRow(value: unknown, family: 4 | 6, where: string): PrefixRow {
  const text = typeof value === 'string' && value.includes('/') ? value : '';
  const b = parseAddressBlock(text);
  if (!b || b.family !== family) {
    throw new ReferenceFileError(`${where}: expected an IPv${family} CIDR block, found ${JSON.stringify(value)}`);
  }
  // Host bits set (10.0.0.1/8) usually means a typo; refusing beats silently widening or narrowing a range.
  if (parseAddressBlock(text.trim().split('/')[0] ?? '')?.first !== b.first) {
    throw new ReferenceFileError(`${where}: ${JSON.stringify(text)} has host bits set (did you mean ${b.text}?)`);
  }
  return { family, prefix: b.text, prefixLen: b.prefix, ...prefixHexRange(b) };
}

function text(v: unknown, where: string, max = 128): string {
  if (typeof v !== 'string' || v.trim() === '' || v.length > max) {
    throw new ReferenceFileError(
      `${where}: expected a non-empty string of at most ${max} characters, found ${JSON.stringify(v)}`,
    );
  }
  return v;
}

const CREATE_DATE = /^(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})$/;

/**
 * Checks a parsed ip-ranges.json (`syncToken`, `createDate`, `prefixes[{ip_prefix, region, service,
 * network_border_group}]`, `ipv6_prefixes[{ipv6_prefix, ...}]`) and returns its rows. Any bad entry refuses the whole
 * file, naming the entry: a half-understood snapshot would name some addresses wrongly.
 */
export function parseAwsIpRanges(doc: unknown, source: string): AwsIpRangesSnapshot {
  const fail = (msg: string): never => {
    throw new ReferenceFileError(`${source}: ${msg}`);
  };
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    fail('expected a JSON object as AWS publishes ip-ranges.json');
  const d = doc as Record<string, unknown>;
  const syncToken = typeof d.syncToken === 'string' && /^\d{1,20}$/.test(d.syncToken) ? d.syncToken : null;
  if (syncToken === null) fail(`syncToken: expected digits (epoch seconds), found ${JSON.stringify(d.syncToken)}`);
  const m = typeof d.createDate === 'string' ? CREATE_DATE.exec(d.createDate) : null;
  if (!m) fail(`createDate: expected YYYY-MM-DD-hh-mm-ss, found ${JSON.stringify(d.createDate)}`);
  const createdAt = `${m![1]}-${m![2]}-${m![3]}T${m![4]}:${m![5]}:${m![6]}Z`;
  if (Number.isNaN(Date.parse(createdAt))) fail(`createDate: not a real time: ${JSON.stringify(d.createDate)}`);
  const rows: AwsRangeRow[] = [];
  for (const [list, key, family] of [
    ['prefixes', 'ip_prefix', 4],
    ['ipv6_prefixes', 'ipv6_prefix', 6],
  ] as const) {
    const entries = d[list] ?? [];
    if (!Array.isArray(entries)) fail(`${list}: expected a list`);
    (entries as unknown[]).forEach((e, i) => {
      const where = `${source}: ${list}[${i}]`;
      if (typeof e !== 'object' || e === null) throw new ReferenceFileError(`${where}: expected an object`);
      const entry = e as Record<string, unknown>;
      rows.push({
        ...prefixRow(entry[key], family, `${where}.${key}`),
        service: text(entry.service, `${where}.service`, 64),
        region: text(entry.region, `${where}.region`, 64),
        networkBorderGroup: text(entry.network_border_group ?? entry.region, `${where}.network_border_group`, 64),
      });
    });
  }
  if (rows.length === 0) fail('no prefixes: an empty snapshot would unname every AWS address');
  return { syncToken: syncToken!, createdAt, rows };
}

function attributes(v: unknown, where: string): NetworkAttribute[] {
  if (v === undefined || v === null) return [];
  if (typeof v !== 'object' || Array.isArray(v)) throw new ReferenceFileError(`${where}: expected a map of key: value`);
  return Object.entries(v as Record<string, unknown>)
    .map(([key, value]) => {
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
        throw new ReferenceFileError(
          `${where}.${key}: expected a string, number or boolean, found ${JSON.stringify(value)}`,
        );
      }
      return { key: text(key, `${where} key`, 64), value: String(value) };
    })
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * Checks a parsed networks file: `{ networks: [{ cidr, name, attributes?: { key: value } }] }` (YAML or JSON). A CIDR
 * listed twice is refused (which name would win is a guess); nested blocks are fine: the longest prefix names an
 * address.
 */
export function parseOwnNetworks(doc: unknown, source: string): NetworkRow[] {
  const list = typeof doc === 'object' && doc !== null ? (doc as { networks?: unknown }).networks : undefined;
  if (!Array.isArray(list) || list.length === 0) {
    throw new ReferenceFileError(
      `${source}: expected { networks: [{ cidr, name, attributes }] } with at least one network`,
    );
  }
  const seen = new Map<string, number>();
  return list.map((e, i) => {
    const where = `${source}: networks[${i}]`;
    if (typeof e !== 'object' || e === null)
      throw new ReferenceFileError(`${where}: expected { cidr, name, attributes }`);
    const entry = e as Record<string, unknown>;
    const raw = entry.cidr;
    const family = typeof raw === 'string' && raw.includes(':') ? 6 : 4;
    const row = prefixRow(raw, family, `${where}.cidr`);
    const before = seen.get(row.prefix);
    if (before !== undefined) throw new ReferenceFileError(`${where}.cidr: ${row.prefix} is also networks[${before}]`);
    seen.set(row.prefix, i);
    return {
      ...row,
      name: text(entry.name, `${where}.name`),
      attributes: attributes(entry.attributes, `${where}.attributes`),
    };
  });
}
