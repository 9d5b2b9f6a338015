/**
 * Names of common IANA protocol numbers (https://www.iana.org/assignments/protocol-numbers), for display: flow logs
 * carry only the number (`protocol`).
 */

/** Protocol numbers flowql names; anything else is shown as its number. */
export const PROTOCOL_NAMES: Readonly<Record<number, string>> = {
  0: 'HOPOPT',
  1: 'ICMP',
  2: 'IGMP',
  4: 'IPv4',
  6: 'TCP',
  8: 'EGP',
  17: 'UDP',
  41: 'IPv6',
  43: 'IPv6-Route',
  44: 'IPv6-Frag',
  46: 'RSVP',
  47: 'GRE',
  50: 'ESP',
  51: 'AH',
  58: 'ICMPv6',
  59: 'IPv6-NoNxt',
  60: 'IPv6-Opts',
  88: 'EIGRP',
  89: 'OSPF',
  94: 'IPIP',
  103: 'PIM',
  112: 'VRRP',
  115: 'L2TP',
  132: 'SCTP',
  136: 'UDPLite',
  137: 'MPLS-in-IP',
};

/** IANA name of a protocol number (6 -> 'TCP'), or the number as text when it has no common name (253 -> '253'). */
export function protocolName(n: number): string {
  return PROTOCOL_NAMES[n] ?? String(n);
}

/** Protocol number for a name, case-insensitive ('tcp' -> 6), or undefined. */
export function protocolNumber(name: string): number | undefined {
  const wanted = name.toLowerCase();
  for (const [n, label] of Object.entries(PROTOCOL_NAMES)) if (label.toLowerCase() === wanted) return Number(n);
  return undefined;
}
