/**
 * Renders a FlowRecord as one text line (fields separated by single spaces, LF-terminated) straight into a
 * LineBuffer, in a flow log's field order. A switch on a per-field code reads each property by its literal name, so
 * every load is monomorphic; indexing the record by a variable field name was a slow generic lookup per field.
 * The bytes are exactly those of `compileRenderer(fields)(r) + '\n'` in latin1 (a unit test holds it to that).
 */
import type { FlowRecord, GeneratedField } from './flow-log-formats.ts';
import type { LineBuffer } from './line-buffer.ts';

/** Writes one record as a line into a buffer. */
export type LineEncoder = (r: FlowRecord, out: LineBuffer) => void;

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

function optional(out: LineBuffer, v: number | string): void {
  if (typeof v === 'number') out.uint(v);
  else out.ascii(v);
}

function field(out: LineBuffer, r: FlowRecord, code: number): void {
  switch (code) {
    case 0:
      return out.uint(r.version);
    case 1:
      return out.ascii(r['account-id']);
    case 2:
      return out.ascii(r['interface-id']);
    case 3:
      return out.ascii(r.srcaddr);
    case 4:
      return out.ascii(r.dstaddr);
    case 5:
      return optional(out, r.srcport);
    case 6:
      return optional(out, r.dstport);
    case 7:
      return optional(out, r.protocol);
    case 8:
      return optional(out, r.packets);
    case 9:
      return optional(out, r.bytes);
    case 10:
      return out.uint(r.start);
    case 11:
      return out.uint(r.end);
    case 12:
      return out.ascii(r.action);
    case 13:
      return out.ascii(r['log-status']);
    case 14:
      return out.ascii(r['vpc-id']);
    case 15:
      return out.ascii(r['subnet-id']);
    case 16:
      return out.ascii(r['instance-id']);
    case 17:
      return optional(out, r['tcp-flags']);
    case 18:
      return out.ascii(r.type);
    case 19:
      return out.ascii(r['pkt-srcaddr']);
    case 20:
      return out.ascii(r['pkt-dstaddr']);
    case 21:
      return out.ascii(r.region);
    case 22:
      return out.ascii(r['az-id']);
    case 23:
      return out.ascii(r['sublocation-type']);
    case 24:
      return out.ascii(r['sublocation-id']);
    case 25:
      return out.ascii(r['pkt-src-aws-service']);
    case 26:
      return out.ascii(r['pkt-dst-aws-service']);
    case 27:
      return out.ascii(r['flow-direction']);
    default:
      return optional(out, r['traffic-path']);
  }
}

/** Compiles the line encoder of one field order. */
export function compileLineEncoder(fields: readonly GeneratedField[]): LineEncoder {
  const codes = Uint8Array.from(fields, (f) => {
    const code = FIELD_CODE[f];
    if (code === undefined) throw new Error(`line-encoder: unknown field ${String(f)}`);
    return code;
  });
  const n = codes.length;
  return (r, out) => {
    out.reserve();
    field(out, r, codes[0]!);
    for (let i = 1; i < n; i++) {
      out.byte(SPACE);
      field(out, r, codes[i]!);
    }
    out.byte(NEWLINE);
  };
}
