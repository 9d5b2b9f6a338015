/**
 * The dimensions flow aggregates group by: the stored and partition columns, and the names looked up for addresses in
 * the reference tables (networks, AWS services, an instance's tag); and what a top-N ranks. Clients only ever name
 * these enum values; the SQL expression behind each lives in src/store/queries/aggregate-expressions.ts. The metrics and
 * time-series intervals are in aggregate-enums.ts.
 */
import type { FilterColumn } from './filter-fields.ts';
import { tagKey as checkTagKey } from './filter-values.ts';
import { InputError } from './input-error.ts';

/** Dimensions that are one stored or partition column each. */
export const COLUMN_DIMENSIONS = [
  'SRC_ADDR',
  'DST_ADDR',
  'SRC_PORT',
  'DST_PORT',
  'PROTOCOL',
  'ACTION',
  'LOG_STATUS',
  'ACCOUNT',
  'REGION',
  'DATE',
  'VPC',
  'SUBNET',
  'INSTANCE',
  'INTERFACE',
  'AZ',
  'FLOW_DIRECTION',
  'TRAFFIC_PATH',
  'TYPE',
  'PKT_SRC_ADDR',
  'PKT_DST_ADDR',
  'PKT_SRC_AWS_SERVICE',
  'PKT_DST_AWS_SERVICE',
] as const;
export type ColumnDimension = (typeof COLUMN_DIMENSIONS)[number];

/**
 * Dimensions that name an end of the record by a reference table (docs/reference-tables.md), looked up at query time
 * in the live snapshots: your own network, or the AWS service, of the record's packet-level source or destination;
 * the value of a tag key (the request's `tagKey`) of the instance, else interface, that logged the record.
 */
export const NAMED_DIMENSIONS = [
  'SRC_NETWORK',
  'DST_NETWORK',
  'SRC_AWS_SERVICE',
  'DST_AWS_SERVICE',
  'INSTANCE_TAG',
] as const;
export type NamedDimension = (typeof NAMED_DIMENSIONS)[number];

/** Dimensions flows can be grouped by: the columns, then the names looked up for them. */
export const FLOW_DIMENSIONS = [...COLUMN_DIMENSIONS, ...NAMED_DIMENSIONS] as const;
export type FlowDimension = (typeof FLOW_DIMENSIONS)[number];

/** The column behind each column dimension (stored or partition column). */
export const DIMENSION_COLUMN: Readonly<Record<ColumnDimension, string>> = {
  SRC_ADDR: 'srcaddr',
  DST_ADDR: 'dstaddr',
  SRC_PORT: 'srcport',
  DST_PORT: 'dstport',
  PROTOCOL: 'protocol',
  ACTION: 'action',
  LOG_STATUS: 'log_status',
  ACCOUNT: 'account_id',
  REGION: 'region',
  DATE: 'date',
  VPC: 'vpc_id',
  SUBNET: 'subnet_id',
  INSTANCE: 'instance_id',
  INTERFACE: 'interface_id',
  AZ: 'az_id',
  FLOW_DIRECTION: 'flow_direction',
  TRAFFIC_PATH: 'traffic_path',
  TYPE: 'type',
  PKT_SRC_ADDR: 'pkt_srcaddr',
  PKT_DST_ADDR: 'pkt_dstaddr',
  PKT_SRC_AWS_SERVICE: 'pkt_src_aws_service',
  PKT_DST_AWS_SERVICE: 'pkt_dst_aws_service',
};

/** One named dimension: which end, which reference table, and how results and GraphQL call its key. */
export interface NamedDimensionSpec {
  /**
   * The end: the record's packet-level source (`pkt-srcaddr`, else `srcaddr`) or destination, or the end that logged
   * it (its instance, else its interface, at its start: the `tag` filter's end on flow records).
   */
  readonly side: 'src' | 'dst' | 'logging';
  /**
   * `networks`: the name of your own network holding the address; `ip_ranges`: its AWS service; `inventory`: the
   * value of the request's tag key.
   */
  readonly reference: 'networks' | 'ip_ranges' | 'inventory';
  /** The key's name in results (`k_<name>` in SQL, the column of a dataset): as the flows dataset names it. */
  readonly name: string;
  /** The FlowGroupKey field, as GraphQL's Flow names the same value. */
  readonly graphql: string;
  /** Every flows column the key reads (the planner answers from a tier that keeps them all). */
  readonly columns: readonly FilterColumn[];
  readonly description: string;
}

const NETWORK_DOC = (end: string) =>
  `Your own network (\`flowql networks import\`, longest prefix) holding the ${end} packet address ` +
  '(pkt-*addr, else *addr: the address the `networks` filter tests); null for an address in none, and for every ' +
  'record when no networks snapshot is loaded.';
const AWS_DOC = (end: string, field: string) =>
  `AWS service of the ${end}: the record's own ${field} (v5) when present, else the service AWS's published ` +
  "ip-ranges name for the packet address (longest prefix; a service beats AMAZON): Flow's awsService rule and the " +
  "`awsServices` filter's. Null when neither names one.";

/** The named dimensions, defined once for the SQL builder, the planner, GraphQL and dataset URLs. */
export const NAMED_DIMENSION_SPECS: Readonly<Record<NamedDimension, NamedDimensionSpec>> = {
  SRC_NETWORK: {
    side: 'src',
    reference: 'networks',
    name: 'src_network',
    graphql: 'srcNetwork',
    columns: ['pkt_srcaddr', 'srcaddr'],
    description: NETWORK_DOC('source'),
  },
  DST_NETWORK: {
    side: 'dst',
    reference: 'networks',
    name: 'dst_network',
    graphql: 'dstNetwork',
    columns: ['pkt_dstaddr', 'dstaddr'],
    description: NETWORK_DOC('destination'),
  },
  SRC_AWS_SERVICE: {
    side: 'src',
    reference: 'ip_ranges',
    name: 'src_aws_service',
    graphql: 'srcAwsService',
    columns: ['pkt_src_aws_service', 'pkt_srcaddr', 'srcaddr'],
    description: AWS_DOC('source', 'pkt-src-aws-service'),
  },
  DST_AWS_SERVICE: {
    side: 'dst',
    reference: 'ip_ranges',
    name: 'dst_aws_service',
    graphql: 'dstAwsService',
    columns: ['pkt_dst_aws_service', 'pkt_dstaddr', 'dstaddr'],
    description: AWS_DOC('destination', 'pkt-dst-aws-service'),
  },
  INSTANCE_TAG: {
    side: 'logging',
    reference: 'inventory',
    name: 'instance_tag',
    graphql: 'instanceTag',
    columns: ['instance_id', 'interface_id', 'start_time'],
    description:
      'The value of the tag `tagKey` (required with this key) of the end that logged the record, as the inventory ' +
      "(`flowql inventory import`) tags it at the record's start: its instance's tags, else its interface's (the " +
      "`tag` filter's rule on flow records). Null for an end without the tag; a key sees its own accounts' tags only.",
  },
};

/** Whether `d` is looked up in a reference table. */
export function isNamedDimension(d: FlowDimension): d is NamedDimension {
  return (NAMED_DIMENSIONS as readonly string[]).includes(d);
}

/** The key's name in results (`srcaddr`, `src_network`): `k_<name>` in SQL, the column of a dataset. */
export function dimensionName(d: FlowDimension): string {
  return isNamedDimension(d) ? NAMED_DIMENSION_SPECS[d].name : DIMENSION_COLUMN[d];
}

/** Every flows column a dimension reads. */
export function dimensionColumns(d: FlowDimension): readonly string[] {
  return isNamedDimension(d) ? NAMED_DIMENSION_SPECS[d].columns : [DIMENSION_COLUMN[d]];
}

/** The reference tables the dimensions look names up in, each once. */
export function dimensionReferences(dims: readonly FlowDimension[]): NamedDimensionSpec['reference'][] {
  return [...new Set(dims.filter(isNamedDimension).map((d) => NAMED_DIMENSION_SPECS[d].reference))];
}

/**
 * The tag key of a grouping: required when it groups by INSTANCE_TAG, refused otherwise (it would be ignored), each
 * an InputError naming `argument` (`tagKey`, or a URL parameter). Null when not grouped by a tag.
 */
export function groupTagKey(dims: readonly FlowDimension[], tagKey: unknown, argument = 'tagKey'): string | null {
  const given = tagKey !== undefined && tagKey !== null;
  if (!dims.includes('INSTANCE_TAG')) {
    if (given)
      throw new InputError(argument, `no ${argument} without INSTANCE_TAG (it names the tag that key groups by)`);
    return null;
  }
  if (!given) throw new InputError(argument, 'a tag key with INSTANCE_TAG (such as "app")');
  return checkTagKey(tagKey, argument);
}

/**
 * What a top-N ranks: any single dimension, or `ADDRESS_PAIR` (source and destination address together, directional:
 * A->B and B->A are two rows, as the records log them).
 */
export const TOP_N_KEYS = ['ADDRESS_PAIR', ...FLOW_DIMENSIONS] as const;
export type TopNKey = (typeof TOP_N_KEYS)[number];

/** The dimensions behind a top-N key. */
export function topNDimensions(by: TopNKey): readonly FlowDimension[] {
  return by === 'ADDRESS_PAIR' ? ['SRC_ADDR', 'DST_ADDR'] : [by];
}
