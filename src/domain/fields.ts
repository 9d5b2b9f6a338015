/**
 * The one table of flow-log fields. The parser, the Parquet schema, the SQL allow-lists and the GraphQL `Flow` type
 * are all derived from it, so adding a field added by AWS is a one-line change here.
 *
 * Sources and value lists: docs/flow-logs.md §2-§4 (VPC flow logs v2-v11, transit gateway v6).
 */

/** How a field's text is parsed and stored. */
export type FieldKind =
  | 'string' // kept as text; `-` is null
  | 'int32' // 32-bit integer (ports, protocol, flags, codes)
  | 'int64' // 64-bit counter (packets, bytes, losses)
  | 'epoch'; // Unix seconds (or milliseconds above 2^31), stored as a UTC TIMESTAMP

/** Which kind of flow log a field belongs to. */
export type FieldFamily = 'vpc' | 'tgw';

export interface FieldSpec {
  /** AWS's hyphenated name, as in `${name}` formats and S3 header lines. */
  readonly name: string;
  /** Column name in Parquet and SQL: AWS's name with `-` as `_`, except `start`/`end` (`end` is reserved). */
  readonly column: string;
  /** GraphQL field name on `Flow`. */
  readonly graphql: string;
  readonly kind: FieldKind;
  /** Flow log format version that introduced the field. */
  readonly version: number;
  readonly family: FieldFamily;
  /** One line for docs and the GraphQL description. */
  readonly description: string;
}

type Row = readonly [name: string, kind: FieldKind, version: number, description: string, graphql?: string];

const vpcRows: readonly Row[] = [
  ['version', 'int32', 2, 'Flow log format version (2 for the default format; the highest field version otherwise).'],
  [
    'account-id',
    'string',
    2,
    'AWS account that owns the network interface (`unknown` for some AWS-managed interfaces).',
  ],
  ['interface-id', 'string', 2, 'ID of the network interface whose traffic is recorded.'],
  ['srcaddr', 'string', 2, 'Source address (the interface address for outgoing traffic).', 'srcAddr'],
  ['dstaddr', 'string', 2, 'Destination address (the interface address for incoming traffic).', 'dstAddr'],
  ['srcport', 'int32', 2, 'Source port.', 'srcPort'],
  ['dstport', 'int32', 2, 'Destination port.', 'dstPort'],
  ['protocol', 'int32', 2, 'IANA protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6).'],
  ['packets', 'int64', 2, 'Packets transferred in the aggregation window.'],
  ['bytes', 'int64', 2, 'Bytes transferred in the aggregation window.'],
  ['start', 'epoch', 2, 'Time the first packet of the flow was received in the window.'],
  ['end', 'epoch', 2, 'Time the last packet of the flow was received in the window.'],
  ['action', 'string', 2, 'ACCEPT or REJECT (null on NODATA and SKIPDATA records).'],
  ['log-status', 'string', 2, 'OK, NODATA (no traffic in the window) or SKIPDATA (records were skipped).'],
  ['vpc-id', 'string', 3, 'VPC of the network interface.'],
  ['subnet-id', 'string', 3, 'Subnet of the network interface.'],
  [
    'instance-id',
    'string',
    3,
    'Instance attached to the interface, if owned by you (null for requester-managed ones).',
  ],
  ['tcp-flags', 'int32', 3, 'OR of the TCP flags seen in the window: FIN 1, SYN 2, RST 4, SYN-ACK 18.'],
  ['type', 'string', 3, 'Traffic type: IPv4, IPv6 or EFA.'],
  ['pkt-srcaddr', 'string', 3, 'Packet-level (original) source address, e.g. behind a NAT gateway.', 'pktSrcAddr'],
  ['pkt-dstaddr', 'string', 3, 'Packet-level (original) destination address.', 'pktDstAddr'],
  ['region', 'string', 4, 'Region of the network interface.'],
  ['az-id', 'string', 4, 'Availability Zone ID (e.g. use1-az5) of the interface; null for sublocations.'],
  ['sublocation-type', 'string', 4, 'wavelength, outpost or localzone.'],
  ['sublocation-id', 'string', 4, 'ID of the sublocation.'],
  ['pkt-src-aws-service', 'string', 5, 'AWS service whose published ranges hold pkt-srcaddr (e.g. S3).'],
  ['pkt-dst-aws-service', 'string', 5, 'AWS service whose published ranges hold pkt-dstaddr.'],
  ['flow-direction', 'string', 5, 'ingress or egress, relative to the recording interface.'],
  [
    'traffic-path',
    'int32',
    5,
    'Egress path: 1 same VPC, 2 IGW or gateway endpoint, 3 VGW, 4/5 peering, 6 local gateway, 7 gateway endpoint, 8 IGW.',
  ],
  ['ecs-cluster-arn', 'string', 7, 'ARN of the ECS cluster of the task.'],
  ['ecs-cluster-name', 'string', 7, 'Name of the ECS cluster.'],
  ['ecs-container-instance-arn', 'string', 7, 'ARN of the ECS container instance (null on Fargate).'],
  ['ecs-container-instance-id', 'string', 7, 'ID of the ECS container instance (null on Fargate).'],
  ['ecs-container-id', 'string', 7, 'Docker runtime ID of the first container of the task.'],
  ['ecs-second-container-id', 'string', 7, 'Docker runtime ID of the second container of the task.'],
  ['ecs-service-name', 'string', 7, 'ECS service that started the task.'],
  ['ecs-task-definition-arn', 'string', 7, 'ARN of the ECS task definition.'],
  ['ecs-task-arn', 'string', 7, 'ARN of the ECS task.'],
  ['ecs-task-id', 'string', 7, 'ID of the ECS task.'],
  [
    'reject-reason',
    'string',
    8,
    'Why traffic was rejected when not by a security group or NACL: BPA (Block Public Access), EC.',
  ],
  ['resource-id', 'string', 9, 'ID of the regional NAT gateway that recorded the traffic.'],
  ['encryption-status', 'int32', 10, 'Encryption: 0 none, 1 Nitro, 2 application, 3 both.'],
  ['instance-tag', 'string', 11, 'Value of the first configured instance tag key.'],
  ['instance-tag-2', 'string', 11, 'Value of the second configured instance tag key.', 'instanceTag2'],
  ['interface-tag', 'string', 11, 'Value of the first configured interface tag key.'],
  ['interface-tag-2', 'string', 11, 'Value of the second configured interface tag key.', 'interfaceTag2'],
  ['asg-tag', 'string', 11, 'Value of the first configured Auto Scaling group tag key.'],
  ['asg-tag-2', 'string', 11, 'Value of the second configured Auto Scaling group tag key.', 'asgTag2'],
  ['interface-type', 'string', 11, 'Type of the recording interface (e.g. nat_gateway, network_load_balancer).'],
  ['next-hop-interface-id', 'string', 11, 'Next-hop network interface.'],
  ['next-hop-subnet-id', 'string', 11, 'Subnet of the next hop.'],
  ['next-hop-az-id', 'string', 11, 'Availability Zone ID of the next hop.'],
  ['next-hop-vpc-id', 'string', 11, 'VPC of the next hop.'],
  ['next-hop-interface-type', 'string', 11, 'Type of the next-hop interface (e.g. nat_gateway, vpc-endpoint).'],
];

const tgwRows: readonly Row[] = [
  ['resource-type', 'string', 6, 'Transit gateway resource: TransitGateway or TransitGatewayAttachment.'],
  ['tgw-id', 'string', 6, 'Transit gateway ID.'],
  ['tgw-attachment-id', 'string', 6, 'Transit gateway attachment ID.'],
  ['tgw-src-vpc-account-id', 'string', 6, 'Account of the source VPC.'],
  ['tgw-dst-vpc-account-id', 'string', 6, 'Account of the destination VPC.'],
  ['tgw-src-vpc-id', 'string', 6, 'Source VPC.'],
  ['tgw-dst-vpc-id', 'string', 6, 'Destination VPC.'],
  ['tgw-src-subnet-id', 'string', 6, 'Source subnet.'],
  ['tgw-dst-subnet-id', 'string', 6, 'Destination subnet.'],
  ['tgw-src-eni', 'string', 6, 'Source attachment interface.'],
  ['tgw-dst-eni', 'string', 6, 'Destination attachment interface.'],
  ['tgw-src-az-id', 'string', 6, 'Source Availability Zone ID.'],
  ['tgw-dst-az-id', 'string', 6, 'Destination Availability Zone ID.'],
  ['tgw-pair-attachment-id', 'string', 6, 'Attachment of the other side of the flow.'],
  ['packets-lost-no-route', 'int64', 6, 'Packets lost for lack of a route.'],
  ['packets-lost-blackhole', 'int64', 6, 'Packets lost to a blackhole route.'],
  ['packets-lost-mtu-exceeded', 'int64', 6, 'Packets lost for exceeding the MTU.'],
  ['packets-lost-ttl-expired', 'int64', 6, 'Packets lost to TTL expiry.'],
];

const STORAGE_RENAMES: Readonly<Record<string, string>> = { start: 'start_time', end: 'end_time' };

function camelCase(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

function toSpec(family: FieldFamily, [name, kind, version, description, graphql]: Row): FieldSpec {
  const column = STORAGE_RENAMES[name] ?? name.replaceAll('-', '_');
  return { name, column, graphql: graphql ?? camelCase(name), kind, version, family, description };
}

/** Every documented field, VPC fields first in AWS's documented order, then the transit gateway fields. */
export const FIELDS: readonly FieldSpec[] = [
  ...vpcRows.map((r) => toSpec('vpc', r)),
  ...tgwRows.map((r) => toSpec('tgw', r)),
];

const byName = new Map(FIELDS.map((f) => [f.name, f]));
const byColumn = new Map(FIELDS.map((f) => [f.column, f]));

/** The spec for an AWS field name (`pkt-srcaddr`), a `${pkt-srcaddr}` token or a storage name (`pkt_srcaddr`). */
export function fieldByName(name: string): FieldSpec | undefined {
  const bare = name.startsWith('${') && name.endsWith('}') ? name.slice(2, -1) : name;
  return byName.get(bare) ?? byColumn.get(bare) ?? byName.get(bare.replaceAll('_', '-'));
}

/** The spec for a storage column name. */
export function fieldByColumn(column: string): FieldSpec | undefined {
  return byColumn.get(column);
}

/**
 * How an integer field is written in a text line: `-` (null) or ASCII digits only, no sign, point, exponent, digit
 * separator or hex prefix, at most this many of them (leading zeros allowed). Both ingest paths (the line parser and
 * the SQL check of DuckDB's reader) take their rule from here and from integerMax.
 */
export const INTEGER_TOKEN_MAX_DIGITS = 24;

/** Fields whose values are bytes or ports on the wire: narrower than int32. */
const NARROW_MAX: Readonly<Record<string, number>> = {
  srcport: 65535,
  dstport: 65535,
  protocol: 255,
  'tcp-flags': 255,
  version: 255,
  'traffic-path': 255,
  'encryption-status': 255,
};

/**
 * Largest value an integer-kind field accepts (smallest is 0): the narrow fields above, 2^31-1 for other int32
 * fields, 2^53-1 for int64 and epoch fields (the largest integer a JS number holds exactly).
 * Undefined for string fields.
 */
export function integerMax(spec: FieldSpec): number | undefined {
  if (spec.kind === 'string') return undefined;
  if (spec.kind === 'int32') return NARROW_MAX[spec.name] ?? 2147483647;
  return Number.MAX_SAFE_INTEGER;
}

/** The 14 fields of the default (version 2) format, in order. */
export const DEFAULT_FORMAT: readonly string[] = vpcRows.filter((r) => r[2] === 2).map((r) => r[0]);

/** The default format as a `${field}` format string, as `DescribeFlowLogs` returns it. */
export const DEFAULT_FORMAT_STRING = DEFAULT_FORMAT.map((f) => `\${${f}}`).join(' ');

/** TCP flag bits reported by flow logs (ACK only ever appears inside SYN-ACK = 18). */
export const TCP_FLAGS = { FIN: 1, SYN: 2, RST: 4, PSH: 8, ACK: 16, URG: 32 } as const;
