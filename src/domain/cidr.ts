/**
 * IPv4 and IPv6 addresses and CIDR blocks, parsed into integer ranges. Pure: the SQL that matches a stored address
 * column against a block lives in src/store/queries/flow-filter-query.ts and takes an `AddressBlock` from here.
 */

/** An address or CIDR block as a closed integer range. A bare address is a /32 (IPv4) or /128 (IPv6) block. */
export interface AddressBlock {
  readonly family: 4 | 6;
  /** Prefix length: 0-32 for IPv4, 0-128 for IPv6. */
  readonly prefix: number;
  /** First and last address of the block (host bits of the input are cleared, as `ip route` does). */
  readonly first: bigint;
  readonly last: bigint;
  /** Canonical text: `10.0.0.0/8`, `2001:db8::/32`, or the bare address when the block is a single address. */
  readonly text: string;
}

/** What every address argument accepts, for error messages. */
export const ADDRESS_BLOCK_EXPECTED =
  'an IPv4 or IPv6 address or CIDR block, e.g. 10.0.0.5, 10.0.0.0/8, 2600:1f18::1 or 2600:1f18::/32';

const V4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

function parseV4(text: string): bigint | null {
  const m = V4.exec(text);
  if (!m) return null;
  let value = 0n;
  for (const part of m.slice(1)) {
    // Leading zeros are refused: some tools read `010` as octal, and AWS never writes them.
    if (part.length > 1 && part.startsWith('0')) return null;
    const n = Number(part);
    if (n > 255) return null;
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

function parseV6(text: string): bigint | null {
  if (!text.includes(':')) return null;
  let head = text;
  let tailV4: bigint | null = null;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    // An embedded IPv4 tail (::ffff:10.0.0.1) stands for the last two groups.
    tailV4 = parseV4(text.slice(lastColon + 1));
    if (tailV4 === null) return null;
    head = text.slice(0, lastColon + 1) + '0:0';
  }
  const halves = head.split('::');
  if (halves.length > 2) return null;
  const split = (s: string): string[] | null => {
    if (s === '') return [];
    const groups = s.split(':');
    return groups.every((g) => HEX_GROUP.test(g)) ? groups : null;
  };
  const left = split(halves[0] ?? '');
  const right = halves.length === 2 ? split(halves[1] ?? '') : [];
  if (!left || !right) return null;
  const present = left.length + right.length;
  if (halves.length === 2 ? present > 7 : present !== 8) return null;
  const groups = [...left, ...Array<string>(8 - present).fill('0'), ...right];
  let value = 0n;
  for (const g of groups) value = (value << 16n) | BigInt(parseInt(g, 16));
  if (tailV4 !== null) value = (value & ~0xffffffffn) | tailV4;
  return value;
}

/** IPv4 text of a 32-bit value: 167772161n -> `10.0.0.1`. */
export function formatIpv4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join('.');
}

/** RFC 5952 text of a 128-bit value (lowercase, longest zero run compressed): `2001:db8::1`. */
export function formatIpv6(value: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [bestStart, bestLen] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** 32 lowercase hex digits of a 128-bit value: the form the SQL side compares IPv6 addresses in. */
export function ipv6Hex(value: bigint): string {
  return value.toString(16).padStart(32, '0');
}

/** Parses `10.0.0.5`, `10.0.0.0/8`, `2001:db8::1` or `2001:db8::/32`; returns null when the text is none of these. */
export function parseAddressBlock(text: string): AddressBlock | null {
  const trimmed = text.trim();
  const slash = trimmed.indexOf('/');
  const addrText = slash < 0 ? trimmed : trimmed.slice(0, slash);
  const prefixText = slash < 0 ? null : trimmed.slice(slash + 1);
  const v4 = parseV4(addrText);
  const family: 4 | 6 | null = v4 !== null ? 4 : parseV6(addrText) !== null ? 6 : null;
  if (family === null) return null;
  const value = v4 ?? (parseV6(addrText) as bigint);
  const bits = family === 4 ? 32 : 128;
  if (prefixText !== null && !/^\d{1,3}$/.test(prefixText)) return null;
  const prefix = prefixText === null ? bits : Number(prefixText);
  if (prefix > bits) return null;
  const hostBits = BigInt(bits - prefix);
  const hostMask = (1n << hostBits) - 1n;
  const first = value & ~hostMask;
  const last = first | hostMask;
  const addr = family === 4 ? formatIpv4(first) : formatIpv6(first);
  return { family, prefix, first, last, text: prefix === bits ? addr : `${addr}/${prefix}` };
}
