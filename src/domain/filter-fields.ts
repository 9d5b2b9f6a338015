/**
 * Every field of the flow filter, defined once: what it accepts and how it is checked (the checks live in
 * filter-values.ts), its GraphQL input type and description, its dataset URL parameter, and the flows columns its
 * condition reads. The rest is generated from or checked against this table:
 * - the `FlowFilter` type (src/domain/flow-filter.ts) is the validators' return types;
 * - `validateFlowFilter` runs each field's `validate`;
 * - the GraphQL `FlowFilter` input (src/graphql/types/flow-filter-input.ts) maps each `input` to a Pothos type;
 * - dataset URLs (src/http/dataset-params.ts) read each `url` parameter;
 * - flows_hourly answers a field when it keeps every one of its `columns` (src/store/queries/flows-hourly-query.ts);
 * - the SQL of each field over flow records (flow-filter-query.ts) and over connections (connection-filter-query.ts)
 *   are tables typed over every field: a field added here does not compile until both say what it means.
 * Lists are ORed within a field and fields are ANDed; `not*` fields keep records whose value is missing.
 */
import {
  FLOW_ACTIONS,
  FLOW_DIRECTIONS,
  LOG_STATUSES,
  accountId,
  addresses,
  awsId,
  awsService,
  count,
  integerText,
  intIn,
  list,
  lower,
  networkName,
  oneOf,
  portRangeText,
  portRanges,
  protocol,
  protocolText,
  referenceNames,
  region,
  seconds,
  tagMatch,
  tcpFlags,
  upper,
} from './filter-values.ts';

/** The flows columns a filter condition may read (identifiers are fixed here, never taken from input). */
export type FilterColumn =
  | 'account_id'
  | 'region'
  | 'vpc_id'
  | 'subnet_id'
  | 'instance_id'
  | 'interface_id'
  | 'srcaddr'
  | 'dstaddr'
  | 'pkt_srcaddr'
  | 'pkt_dstaddr'
  | 'srcport'
  | 'dstport'
  | 'protocol'
  | 'action'
  | 'log_status'
  | 'tcp_flags'
  | 'flow_direction'
  | 'traffic_path'
  | 'pkt_src_aws_service'
  | 'pkt_dst_aws_service'
  | 'bytes'
  | 'packets'
  | 'start_time'
  | 'end_time';

/** A field's GraphQL input type: src/graphql/types/flow-filter-input.ts maps each to a Pothos type. */
export type FilterInputType =
  | 'strings'
  | 'ints'
  | 'portRanges'
  | 'tcpFlags'
  | 'tag'
  | 'bigint'
  | 'int'
  | 'FlowAction'
  | 'LogStatus'
  | 'FlowDirection';

/** How a dataset URL carries a field (or one part of it, for tcpFlags). */
export interface FilterParam {
  /** The URL parameter; a list field repeats it or separates values by commas. */
  readonly param: string;
  /** Other names accepted for it (`cidr` for `addr`). */
  readonly aliases?: readonly string[];
  /** One text value as the field's input shape (default: the text as it is). */
  readonly text?: (value: string, param: string) => unknown;
  /** A single value, not a list (thresholds). */
  readonly single?: boolean;
}

/** One field of the filter. `V` is its validated value (null when absent). */
export interface FilterFieldSpec<V> {
  readonly input: FilterInputType;
  /** The GraphQL description. */
  readonly description?: string;
  /** Its dataset parameter, or (an object-valued field) one parameter per part: `tcpFlagsAny` carries `tcpFlags.any`. */
  readonly url: FilterParam | { readonly parts: Readonly<Record<string, FilterParam>> };
  /** Checks raw input at `path` (`filter.srcAddr`), throwing an InputError naming it; null when absent. */
  readonly validate: (raw: unknown, path: string) => V;
  /** Every flows column the field's record condition reads. */
  readonly columns: readonly FilterColumn[];
}

const addrDoc = (what: string) => `${what}: IPv4/IPv6 addresses or CIDR blocks (10.0.0.0/8, 2600:1f18::/32), ORed.`;
const thresholdDoc = (what: string) =>
  `${what}. Tests single records (a record without the value, such as NODATA, does not pass); ` +
  'connections and their totals refuse it.';

/**
 * The filter fields (besides `timeRange`, whose window rules live in flow-filter.ts). Key order is the order of
 * validation, so the first bad field of a request is the one its error names.
 */
export const FILTER_FIELDS = {
  accountIds: {
    input: 'strings',
    description: '12-digit account ids (partition account).',
    url: { param: 'accountId' },
    validate: list('account ids', accountId),
    columns: ['account_id'],
  },
  regions: {
    input: 'strings',
    description: 'Regions such as us-east-1 (partition region).',
    url: { param: 'region' },
    validate: list('regions', region),
    columns: ['region'],
  },
  vpcIds: { input: 'strings', url: { param: 'vpcId' }, validate: list('VPC ids', awsId('vpc')), columns: ['vpc_id'] },
  subnetIds: {
    input: 'strings',
    url: { param: 'subnetId' },
    validate: list('subnet ids', awsId('subnet')),
    columns: ['subnet_id'],
  },
  instanceIds: {
    input: 'strings',
    url: { param: 'instanceId' },
    validate: list('instance ids', awsId('i')),
    columns: ['instance_id'],
  },
  interfaceIds: {
    input: 'strings',
    url: { param: 'interfaceId' },
    validate: list('interface ids', awsId('eni')),
    columns: ['interface_id'],
  },
  srcAddr: {
    input: 'strings',
    description: addrDoc('Source address in'),
    url: { param: 'srcAddr' },
    validate: addresses,
    columns: ['srcaddr'],
  },
  dstAddr: {
    input: 'strings',
    description: addrDoc('Destination address in'),
    url: { param: 'dstAddr' },
    validate: addresses,
    columns: ['dstaddr'],
  },
  addr: {
    input: 'strings',
    description: addrDoc('Source or destination address in'),
    url: { param: 'addr', aliases: ['cidr'] },
    validate: addresses,
    columns: ['srcaddr', 'dstaddr'],
  },
  notSrcAddr: {
    input: 'strings',
    description: addrDoc('Source address not in'),
    url: { param: 'notSrcAddr' },
    validate: addresses,
    columns: ['srcaddr'],
  },
  notDstAddr: {
    input: 'strings',
    description: addrDoc('Destination address not in'),
    url: { param: 'notDstAddr' },
    validate: addresses,
    columns: ['dstaddr'],
  },
  notAddr: {
    input: 'strings',
    description: addrDoc('Neither address in'),
    url: { param: 'notAddr' },
    validate: addresses,
    columns: ['srcaddr', 'dstaddr'],
  },
  srcPort: {
    input: 'portRanges',
    url: { param: 'srcPort', text: portRangeText },
    validate: portRanges,
    columns: ['srcport'],
  },
  dstPort: {
    input: 'portRanges',
    url: { param: 'dstPort', text: portRangeText },
    validate: portRanges,
    columns: ['dstport'],
  },
  port: {
    input: 'portRanges',
    description: 'Source or destination port in the ranges.',
    url: { param: 'port', text: portRangeText },
    validate: portRanges,
    columns: ['srcport', 'dstport'],
  },
  notSrcPort: {
    input: 'portRanges',
    url: { param: 'notSrcPort', text: portRangeText },
    validate: portRanges,
    columns: ['srcport'],
  },
  notDstPort: {
    input: 'portRanges',
    url: { param: 'notDstPort', text: portRangeText },
    validate: portRanges,
    columns: ['dstport'],
  },
  notPorts: {
    input: 'portRanges',
    description: 'Neither port in the ranges.',
    url: { param: 'notPort', text: portRangeText },
    validate: portRanges,
    columns: ['srcport', 'dstport'],
  },
  protocols: {
    input: 'ints',
    description: 'IANA protocol numbers (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6).',
    url: { param: 'protocol', text: protocolText },
    validate: list('protocol numbers', protocol),
    columns: ['protocol'],
  },
  notProtocols: {
    input: 'ints',
    url: { param: 'notProtocol', text: protocolText },
    validate: list('protocol numbers', protocol),
    columns: ['protocol'],
  },
  actions: {
    input: 'FlowAction',
    url: { param: 'action', text: upper },
    validate: list('actions', oneOf(FLOW_ACTIONS)),
    columns: ['action'],
  },
  logStatuses: {
    input: 'LogStatus',
    url: { param: 'logStatus', text: upper },
    validate: list('log statuses', oneOf(LOG_STATUSES)),
    columns: ['log_status'],
  },
  tcpFlags: {
    input: 'tcpFlags',
    url: {
      parts: {
        any: { param: 'tcpFlagsAny', text: upper },
        all: { param: 'tcpFlagsAll', text: upper },
        none: { param: 'tcpFlagsNone', text: upper },
      },
    },
    validate: tcpFlags,
    columns: ['tcp_flags'],
  },
  flowDirections: {
    input: 'FlowDirection',
    url: { param: 'flowDirection', text: lower },
    validate: list('flow directions', oneOf(FLOW_DIRECTIONS)),
    columns: ['flow_direction'],
  },
  trafficPaths: {
    input: 'ints',
    description: 'traffic-path codes 1-8.',
    url: { param: 'trafficPath', text: integerText },
    validate: list('traffic paths', intIn(1, 8, 'a traffic path')),
    columns: ['traffic_path'],
  },
  pktSrcAwsServices: {
    input: 'strings',
    description: 'AWS services as flow logs name them (S3, AMAZON, EC2, ...).',
    url: { param: 'pktSrcAwsService' },
    validate: list('AWS service names', awsService),
    columns: ['pkt_src_aws_service'],
  },
  pktDstAwsServices: {
    input: 'strings',
    url: { param: 'pktDstAwsService' },
    validate: list('AWS service names', awsService),
    columns: ['pkt_dst_aws_service'],
  },
  awsServices: {
    input: 'strings',
    description:
      'Either end is this AWS service (S3, DYNAMODB, ...): the pkt-*-aws-service of v5 records when present, else ' +
      "the service AWS's published ip-ranges name for the packet address (longest prefix; a service beats AMAZON).",
    url: { param: 'awsService' },
    validate: referenceNames('AWS service names', awsService),
    columns: ['pkt_src_aws_service', 'pkt_dst_aws_service', 'pkt_srcaddr', 'pkt_dstaddr', 'srcaddr', 'dstaddr'],
  },
  networks: {
    input: 'strings',
    description: 'Either end (its packet address) is in one of your own networks of these names (longest prefix).',
    url: { param: 'network' },
    validate: referenceNames('network names', networkName),
    columns: ['pkt_srcaddr', 'pkt_dstaddr', 'srcaddr', 'dstaddr'],
  },
  tag: {
    input: 'tag',
    description:
      'Either end carries this tag in the inventory (`flowql inventory import`) at the time of the record or ' +
      'connection: an instance its tags, an interface without one its own. On flow records the end is the logging ' +
      "one (the record's instance, else its interface); on handshakes and edges the client or the server. " +
      '`{ key: "Name", values: [...] }` filters by name. A key sees the tags of its own accounts only.',
    url: { parts: { key: { param: 'tagKey', single: true }, values: { param: 'tagValue' } } },
    validate: tagMatch,
    columns: ['instance_id', 'interface_id', 'start_time'],
  },
  minBytes: {
    input: 'bigint',
    description: thresholdDoc('Records of at least this many bytes (a single flow over 500 MB: "500000000")'),
    url: { param: 'minBytes', single: true },
    validate: count('bytes'),
    columns: ['bytes'],
  },
  maxBytes: {
    input: 'bigint',
    description: thresholdDoc('Records of at most this many bytes'),
    url: { param: 'maxBytes', single: true },
    validate: count('bytes'),
    columns: ['bytes'],
  },
  minPackets: {
    input: 'bigint',
    description: thresholdDoc('Records of at least this many packets'),
    url: { param: 'minPackets', single: true },
    validate: count('packets'),
    columns: ['packets'],
  },
  maxPackets: {
    input: 'bigint',
    description: thresholdDoc('Records of at most this many packets'),
    url: { param: 'maxPackets', single: true },
    validate: count('packets'),
    columns: ['packets'],
  },
  minDurationSeconds: {
    input: 'int',
    description: thresholdDoc('Records spanning at least this many seconds (end - start)'),
    url: { param: 'minDurationSeconds', text: integerText, single: true },
    validate: seconds,
    columns: ['start_time', 'end_time'],
  },
  maxDurationSeconds: {
    input: 'int',
    description: thresholdDoc('Records spanning at most this many seconds (end - start)'),
    url: { param: 'maxDurationSeconds', text: integerText, single: true },
    validate: seconds,
    columns: ['start_time', 'end_time'],
  },
} as const satisfies Readonly<Record<string, FilterFieldSpec<unknown>>>;

/** A filter field's name. */
export type FilterField = keyof typeof FILTER_FIELDS;

/** The validated value of every filter field (null when the request did not set it). */
export type FilterFieldValues = { readonly [K in FilterField]: ReturnType<(typeof FILTER_FIELDS)[K]['validate']> };

/** The field names, in validation order. */
export const FILTER_FIELD_NAMES = Object.keys(FILTER_FIELDS) as FilterField[];

/** Every flows column a field's condition reads. */
export function filterColumns(field: FilterField): readonly FilterColumn[] {
  return FILTER_FIELDS[field].columns;
}
