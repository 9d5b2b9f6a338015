/**
 * Renders a FlowRecord as one text line (fields separated by single spaces, LF-terminated) straight into a
 * LineBuffer, in a flow log's field order. A switch on a per-field code reads each property by its literal name, so
 * every load is monomorphic; indexing the record by a variable field name was a slow generic lookup per field.
 * Runs of adjacent fields that an interface writes identically in every record (version, account, ids, region, AZ:
 * half the bytes of a v5 line) are encoded once per interface and copied whole when the record holds exactly those
 * values (checked per record, so a record that differs is still rendered field by field). The bytes are exactly
 * those of `compileRenderer(fields)(r) + '\n'` in latin1 (a unit test holds it to that).
 */
import type { FlowRecord, GeneratedField } from './flow-log-formats.ts';
import { decimalDigits, encodeAscii, type LineBuffer } from './line-buffer.ts';

/** What an interface writes in every record: its ids, region, AZ and its flow log's version. */
export interface InterfaceStrings {
  readonly version: number;
  readonly recordAccountId: string;
  readonly interfaceId: string;
  readonly vpcId: string;
  readonly subnetId: string;
  readonly instanceId: string;
  readonly region: string;
  readonly azId: string;
}

/** An interface's runs of constant fields, with their bytes (see compileLineEncoder). */
export interface PreparedInterface {
  readonly values: readonly (readonly (string | number)[])[];
  readonly bytes: readonly Uint8Array[];
}

/** Renders records in one field order. */
export interface LineEncoder {
  /** Encodes the runs of fields that `iface` writes identically in every record. */
  prepare(iface: InterfaceStrings): PreparedInterface;
  /** Writes `r` as a line; `prepared` (of the logging interface) lets runs be copied whole when `r` holds them. */
  encode(r: FlowRecord, out: LineBuffer, prepared: PreparedInterface | null): void;
}

const FIELD_CODE: Readonly<Record<GeneratedField, number>> = {
  version: 0,
  'account-id': 1,
  'interface-id': 2,
  srcaddr: 3,
  dstaddr: 4,
  srcport: 5,
  dstport: 6,
  protocol: 7,
  packets: 8,
  bytes: 9,
  start: 10,
  end: 11,
  action: 12,
  'log-status': 13,
  'vpc-id': 14,
  'subnet-id': 15,
  'instance-id': 16,
  'tcp-flags': 17,
  type: 18,
  'pkt-srcaddr': 19,
  'pkt-dstaddr': 20,
  region: 21,
  'az-id': 22,
  'sublocation-type': 23,
  'sublocation-id': 24,
  'pkt-src-aws-service': 25,
  'pkt-dst-aws-service': 26,
  'flow-direction': 27,
  'traffic-path': 28,
};

const SPACE = 32;
const NEWLINE = 10;
// Fields an interface writes the same in every record (version is its flow log's).
const PER_INTERFACE: ReadonlySet<number> = new Set([0, 1, 2, 14, 15, 16, 21, 22]);

/** The interface's value of a per-interface field. */
function ofInterface(i: InterfaceStrings, code: number): string | number {
  const values: Readonly<Record<number, string | number>> = {
    0: i.version,
    1: i.recordAccountId,
    2: i.interfaceId,
    14: i.vpcId,
    15: i.subnetId,
    16: i.instanceId,
    21: i.region,
    22: i.azId,
  };
  return values[code]!;
}

/** The record's value of a field, by code. */
function valueOf(r: FlowRecord, code: number): string | number {
  switch (code) {
    case 0:
      return r.version;
    case 1:
      return r['account-id'];
    case 2:
      return r['interface-id'];
    case 3:
      return r.srcaddr;
    case 4:
      return r.dstaddr;
    case 5:
      return r.srcport;
    case 6:
      return r.dstport;
    case 7:
      return r.protocol;
    case 8:
      return r.packets;
    case 9:
      return r.bytes;
    case 10:
      return r.start;
    case 11:
      return r.end;
    case 12:
      return r.action;
    case 13:
      return r['log-status'];
    case 14:
      return r['vpc-id'];
    case 15:
      return r['subnet-id'];
    case 16:
      return r['instance-id'];
    case 17:
      return r['tcp-flags'];
    case 18:
      return r.type;
    case 19:
      return r['pkt-srcaddr'];
    case 20:
      return r['pkt-dstaddr'];
    case 21:
      return r.region;
    case 22:
      return r['az-id'];
    case 23:
      return r['sublocation-type'];
    case 24:
      return r['sublocation-id'];
    case 25:
      return r['pkt-src-aws-service'];
    case 26:
      return r['pkt-dst-aws-service'];
    case 27:
      return r['flow-direction'];
    default:
      return r['traffic-path'];
  }
}

/** Compiles the line encoder of one field order. */
export function compileLineEncoder(fields: readonly GeneratedField[]): LineEncoder {
  const codes = fields.map((f) => {
    const code = FIELD_CODE[f];
    if (code === undefined) throw new Error(`line-encoder: unknown field ${String(f)}`);
    return code;
  });
  // Segments of the line: a run of adjacent per-interface fields, or one other field.
  const segments: number[][] = [];
  for (const code of codes) {
    const last = segments.at(-1);
    if (last !== undefined && PER_INTERFACE.has(code) && PER_INTERFACE.has(last[0]!)) last.push(code);
    else segments.push([code]);
  }
  const runCodes = segments.filter((seg) => PER_INTERFACE.has(seg[0]!));

  // Each line is one loop over `order`: a field code (>= 0) or a run (-1 - run index). Values are written inline
  // (digits, char codes) rather than through LineBuffer methods: a call per field cost as much as the writing.
  const order = Int32Array.from(segments, (seg) => {
    const run = runCodes.indexOf(seg);
    return run >= 0 ? -1 - run : seg[0]!;
  });
  const n = order.length;
  const matches = (r: FlowRecord, run: number, expected: readonly (string | number)[]): boolean => {
    const list = runCodes[run]!;
    for (let j = 0; j < list.length; j++) if (valueOf(r, list[j]!) !== expected[j]) return false;
    return true;
  };
  // A run whose values differ from the interface's, field by field.
  const spell = (r: FlowRecord, out: LineBuffer, run: number): void => {
    const list = runCodes[run]!;
    for (let j = 0; j < list.length; j++) {
      if (j > 0) out.byte(SPACE);
      const v = valueOf(r, list[j]!);
      if (typeof v === 'number') out.uint(v);
      else out.ascii(v);
    }
  };
  return {
    prepare(iface) {
      const values = runCodes.map((list) => list.map((code) => ofInterface(iface, code)));
      return { values, bytes: values.map((v) => encodeAscii(v.join(' '))) };
    },
    encode(r, out, prepared) {
      out.reserve();
      for (let s = 0; s < n; s++) {
        if (s > 0) out.byte(SPACE);
        const code = order[s]!;
        if (code < 0) {
          const run = -1 - code;
          if (prepared !== null && matches(r, run, prepared.values[run]!)) out.copy(prepared.bytes[run]!);
          else spell(r, out, run);
          continue;
        }
        const v = valueOf(r, code);
        if (typeof v === 'string') {
          const buf = out.buf;
          let at = out.length;
          for (let i = 0; i < v.length; i++) buf[at++] = v.charCodeAt(i);
          out.length = at;
        } else if (v >= 0 && v <= 0x7fffffff && (v | 0) === v) {
          const buf = out.buf;
          const digits = decimalDigits(v);
          let at = out.length + digits;
          out.length = at;
          let rest = v;
          do {
            const q = (rest / 10) | 0;
            buf[--at] = 48 + (rest - q * 10);
            rest = q;
          } while (rest > 0);
        } else out.uint(v);
      }
      out.byte(NEWLINE);
    },
  };
}
