/**
 * The record formats the generated flow logs use, and the renderer that turns a record into one text line in a
 * format's field order. Formats follow docs/flow-logs.md §1.2 (default), §1.3 (custom, any order) and §2 (v5 list).
 */
import { DEFAULT_FORMAT } from '../domain/fields.ts';

/** One generated record, keyed by AWS field name; `-` marks a field that does not apply (as AWS writes it). */
export interface FlowRecord {
  version: number;
  'account-id': string;
  'interface-id': string;
  srcaddr: string;
  dstaddr: string;
  srcport: number | '-';
  dstport: number | '-';
  protocol: number | '-';
  packets: number | '-';
  bytes: number | '-';
  start: number;
  end: number;
  action: string;
  'log-status': string;
  'vpc-id': string;
  'subnet-id': string;
  'instance-id': string;
  'tcp-flags': number | '-';
  type: string;
  'pkt-srcaddr': string;
  'pkt-dstaddr': string;
  region: string;
  'az-id': string;
  'sublocation-type': string;
  'sublocation-id': string;
  'pkt-src-aws-service': string;
  'pkt-dst-aws-service': string;
  'flow-direction': string;
  'traffic-path': number | '-';
}

/** A field the generator can write. */
export type GeneratedField = keyof FlowRecord;

/** Names of the generated formats, as recorded in ground truth. */
export type FormatName = 'v2-default' | 'v3-alphabetical' | 'v5-full';

/** The 29 fields up to v5 in AWS's documented order. */
export const V5_FIELDS: readonly GeneratedField[] = [
  'version',
  'account-id',
  'interface-id',
  'srcaddr',
  'dstaddr',
  'srcport',
  'dstport',
  'protocol',
  'packets',
  'bytes',
  'start',
  'end',
  'action',
  'log-status',
  'vpc-id',
  'subnet-id',
  'instance-id',
  'tcp-flags',
  'type',
  'pkt-srcaddr',
  'pkt-dstaddr',
  'region',
  'az-id',
  'sublocation-type',
  'sublocation-id',
  'pkt-src-aws-service',
  'pkt-dst-aws-service',
  'flow-direction',
  'traffic-path',
];

const V3_FIELDS = V5_FIELDS.slice(0, 21);

/** Field lists per format. v3 is deliberately alphabetical: real S3 files come that way (flow-logs.md §1.3). */
export const FORMAT_FIELDS: Readonly<Record<FormatName, readonly GeneratedField[]>> = {
  'v2-default': DEFAULT_FORMAT as readonly GeneratedField[],
  'v3-alphabetical': [...V3_FIELDS].sort(),
  'v5-full': V5_FIELDS,
};

/** The `version` value AWS writes: 2 for the default format, else the highest version among the fields. */
export const FORMAT_VERSION: Readonly<Record<FormatName, number>> = {
  'v2-default': 2,
  'v3-alphabetical': 3,
  'v5-full': 5,
};

/** The S3 header line of a format: hyphenated names separated by single spaces. */
export function headerLine(fields: readonly string[]): string {
  return fields.join(' ');
}

/** The `${field}` format string, as DescribeFlowLogs returns it. */
export function formatString(fields: readonly string[]): string {
  return fields.map((f) => `\${${f}}`).join(' ');
}

/** Renders a record as one text line in a field order; the reference for the byte renderer (line-encoder.ts). */
export function compileRenderer(fields: readonly GeneratedField[]): (r: FlowRecord) => string {
  const names = [...fields];
  return (r) => names.map((name) => `${r[name]}`).join(' ');
}

/** A record with every field `-` (start/end 0), to be filled in; the base of hand-written test records. */
export function blankRecord(): FlowRecord {
  return {
    version: 2,
    'account-id': '-',
    'interface-id': '-',
    srcaddr: '-',
    dstaddr: '-',
    srcport: '-',
    dstport: '-',
    protocol: '-',
    packets: '-',
    bytes: '-',
    start: 0,
    end: 0,
    action: '-',
    'log-status': '-',
    'vpc-id': '-',
    'subnet-id': '-',
    'instance-id': '-',
    'tcp-flags': '-',
    type: '-',
    'pkt-srcaddr': '-',
    'pkt-dstaddr': '-',
    region: '-',
    'az-id': '-',
    'sublocation-type': '-',
    'sublocation-id': '-',
    'pkt-src-aws-service': '-',
    'pkt-dst-aws-service': '-',
    'flow-direction': '-',
    'traffic-path': '-',
  };
}
