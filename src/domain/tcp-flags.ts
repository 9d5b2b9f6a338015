/**
 * Decoding of the `tcp-flags` bitmask (flow-logs.md §4.5). Flow logs OR the supported flags (FIN 1, SYN 2, RST 4,
 * SYN-ACK 18) over the aggregation window; ACK only ever appears as part of SYN-ACK.
 *
 * Naming decision: SYN-ACK is reported as the two bit names 'SYN', 'ACK' (as Elastic and other peers do), not as a
 * composite 'SYN-ACK' name, so every name maps to exactly one bit and 19 reads ['FIN', 'SYN', 'ACK'].
 */
import { TCP_FLAGS } from './fields.ts';

/** Names of a TCP flag bit, lowest bit first. */
export type TcpFlagName = keyof typeof TCP_FLAGS;

const ORDERED = Object.entries(TCP_FLAGS).sort((a, b) => a[1] - b[1]) as [TcpFlagName, number][];

/** Names of the bits set in `flags`, lowest bit first: 19 -> ['FIN', 'SYN', 'ACK']; 0 -> []. */
export function tcpFlagNames(flags: number): TcpFlagName[] {
  const names: TcpFlagName[] = [];
  for (const [name, bit] of ORDERED) if ((flags & bit) !== 0) names.push(name);
  return names;
}

/** A SYN without ACK: the record's source opened the connection (the client). */
export function isSyn(flags: number | null | undefined): boolean {
  return flags != null && (flags & TCP_FLAGS.SYN) !== 0 && (flags & TCP_FLAGS.ACK) === 0;
}

/** SYN-ACK (18, or 19 with FIN, 22/23 with RST): the record's source answered a SYN (the server). */
export function isSynAck(flags: number | null | undefined): boolean {
  const synAck = TCP_FLAGS.SYN | TCP_FLAGS.ACK;
  return flags != null && (flags & synAck) === synAck;
}

/** FIN seen in the window (the connection was closed, by either side). */
export function hasFin(flags: number | null | undefined): boolean {
  return flags != null && (flags & TCP_FLAGS.FIN) !== 0;
}

/** RST seen in the window. */
export function hasRst(flags: number | null | undefined): boolean {
  return flags != null && (flags & TCP_FLAGS.RST) !== 0;
}
