/** Addresses as fixed-width hex text in SQL, the form CIDR ranges are compared in (src/domain/cidr.ts ipv6Hex). */
import { raw, type SqlFragment } from '../sql.ts';

/**
 * Expands a textual IPv6 address to 32 lowercase hex digits (`2001:db8::1` -> `20010db8000...0001`). `c` is a column
 * or an SQL expression built from fixed text, never input.
 */
export function ipv6HexSql(c: string): SqlFragment {
  const groups = `len(list_filter(string_split(${c}, ':'), lambda g: g <> ''))`;
  const expanded = `trim(replace(${c}, '::', ':' || repeat('0:', 8 - ${groups})), ':')`;
  return raw(`lower(array_to_string(list_transform(string_split(${expanded}, ':'), lambda g: lpad(g, 4, '0')), ''))`);
}
