/** Addresses as fixed-width hex text in SQL, the form CIDR ranges are compared in (src/domain/cidr.ts ipv6Hex). */
import { raw, type SqlFragment } from '../sql.ts';

/**
 * An IPv6 address whose last 32 bits are written as an IPv4 tail (`::ffff:10.0.0.5`, RFC 4291 §2.2) with that tail
 * as two hex groups (`::ffff:a00:5`), so the expansion below sees groups only; other text is left as it is.
 */
function withoutIpv4Tail(c: string): string {
  const tail = `regexp_extract(${c}, '([0-9]+)\\.([0-9]+)\\.([0-9]+)\\.([0-9]+)$', ['a', 'b', 'c', 'd'])`;
  const octet = (k: string) => `TRY_CAST(${tail}.${k} AS INTEGER)`;
  return (
    `CASE WHEN contains(${c}, '.') THEN regexp_replace(${c}, '[0-9.]+$', '') || ` +
    `printf('%x:%x', ${octet('a')} * 256 + ${octet('b')}, ${octet('c')} * 256 + ${octet('d')}) ELSE ${c} END`
  );
}

/**
 * Expands a textual IPv6 address to 32 lowercase hex digits (`2001:db8::1` -> `20010db8000...0001`, `::ffff:10.0.0.5`
 * -> `0...0ffff0a000005`). `c` is a column or an SQL expression built from fixed text, never input.
 */
export function ipv6HexSql(c: string): SqlFragment {
  const v = `(${withoutIpv4Tail(c)})`;
  const groups = `len(list_filter(string_split(${v}, ':'), lambda g: g <> ''))`;
  const expanded = `trim(replace(${v}, '::', ':' || repeat('0:', 8 - ${groups})), ':')`;
  return raw(`lower(array_to_string(list_transform(string_split(${expanded}, ':'), lambda g: lpad(g, 4, '0')), ''))`);
}
