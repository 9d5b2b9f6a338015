/**
 * The shared output types of the flow aggregates: the enums (dimensions, metrics, intervals), the `FlowAggregate`
 * interface carrying the metric fields, and the group key. The root fields live in aggregates.ts.
 */
import {
  FLOW_METRICS,
  TIME_INTERVALS,
  type FlowMetric,
  type FlowValue,
  type TimeInterval,
} from '../../domain/aggregate-enums.ts';
import {
  DIMENSION_COLUMN,
  FLOW_DIMENSIONS,
  NAMED_DIMENSION_SPECS,
  TOP_N_KEYS,
  isNamedDimension,
  type FlowDimension,
  type TopNKey,
} from '../../domain/flow-dimensions.ts';
import { fieldByColumn } from '../../domain/fields.ts';
import { protocolName } from '../../domain/protocols.ts';
import type { AggregateValues, GroupKey } from '../../questions/aggregate-reader.ts';
import { builder } from '../builder.ts';
import { VALUE_FIELD } from './aggregate-selection.ts';

const PARTITION_DOCS: Readonly<Record<string, string>> = {
  account_id: 'Partition account (the record account-id, else the account of the S3 key).',
  date: 'Partition date: UTC date of the record start, YYYY-MM-DD.',
};

function dimensionDoc(d: FlowDimension): string {
  if (isNamedDimension(d)) return NAMED_DIMENSION_SPECS[d].description;
  const column = DIMENSION_COLUMN[d];
  return PARTITION_DOCS[column] ?? fieldByColumn(column)?.description ?? column;
}

/** GraphQL field name of a dimension on FlowGroupKey (the Flow field name from the field table, or of the name). */
export function dimensionField(d: FlowDimension): string {
  if (isNamedDimension(d)) return NAMED_DIMENSION_SPECS[d].graphql;
  if (d === 'ACCOUNT') return 'accountId';
  if (d === 'DATE') return 'date';
  return fieldByColumn(DIMENSION_COLUMN[d])!.graphql;
}

const INT_DIMENSIONS: ReadonlySet<FlowDimension> = new Set(['SRC_PORT', 'DST_PORT', 'PROTOCOL', 'TRAFFIC_PATH']);

const METRIC_DOCS: Readonly<Record<FlowMetric, string>> = {
  RECORDS: 'Number of records.',
  BYTES: 'Sum of bytes.',
  PACKETS: 'Sum of packets.',
  ACCEPTED_RECORDS: 'Records with action ACCEPT.',
  REJECTED_RECORDS: 'Records with action REJECT.',
  NODATA_RECORDS: 'Records with log-status NODATA (no traffic in the window).',
  SKIPDATA_RECORDS: 'Records with log-status SKIPDATA (records lost by AWS in the window).',
  DISTINCT_SRC_ADDRS: 'Distinct source addresses.',
  DISTINCT_DST_ADDRS: 'Distinct destination addresses.',
  DISTINCT_INTERFACES: 'Distinct network interfaces.',
  DISTINCT_DST_PORTS: 'Distinct destination ports (fan-out: rank sources by it to find one reaching many ports).',
  AVG_BYTES: 'Bytes per record, over the records carrying a byte count (Float; null without any).',
  MIN_BYTES: "The smallest record's bytes (null without byte counts). Read from the records, never the hourly sums.",
  MAX_BYTES: "The largest record's bytes (null without byte counts). Read from the records, never the hourly sums.",
  AVG_PACKETS: 'Packets per record, over the records carrying a packet count (Float; null without any).',
  MIN_PACKETS: "The smallest record's packets (null without packet counts). Read from the records.",
  MAX_PACKETS: "The largest record's packets (null without packet counts). Read from the records.",
  PEAK_BITS_PER_SECOND:
    'Largest bits per second (bytes x 8 / width) of the rate buckets: the epoch-aligned `rateInterval` buckets ' +
    'overlapping the window, each divided by its full width. Not on time series.',
  P95_BITS_PER_SECOND:
    '95th percentile (nearest rank: of the N bucket rates sorted ascending, the one at rank ceil(0.95 N)) of bits ' +
    'per second over every rate bucket of the window, buckets without traffic counting as 0. Not on time series.',
  PEAK_PACKETS_PER_SECOND: 'As PEAK_BITS_PER_SECOND, for packets per second.',
  P95_PACKETS_PER_SECOND: 'As P95_BITS_PER_SECOND, for packets per second.',
};

/** Dimensions to group by. */
export const FlowDimensionEnum = builder.enumType('FlowDimension', {
  description:
    'What flows can be grouped by: a column, or a name a reference table gives an end (SRC_NETWORK, DST_AWS_SERVICE...).',
  values: Object.fromEntries(FLOW_DIMENSIONS.map((d) => [d, { description: dimensionDoc(d) }])) as Record<
    FlowDimension,
    { description: string }
  >,
});

/** What a top-N ranks. */
export const FlowTopNKeyEnum = builder.enumType('FlowTopNKey', {
  description:
    'What a top-N ranks: a dimension, or ADDRESS_PAIR (source and destination address, directional: A->B and B->A are ' +
    'separate rows, as the records log them).',
  values: Object.fromEntries(
    TOP_N_KEYS.map((k) => [
      k,
      { description: k === 'ADDRESS_PAIR' ? 'Source and destination address.' : dimensionDoc(k) },
    ]),
  ) as Record<TopNKey, { description: string }>,
});

/** Metrics to rank by. */
export const FlowMetricEnum = builder.enumType('FlowMetric', {
  description:
    'A metric over records. Sums are over records as logged at every observation point: traffic between two ' +
    'monitored interfaces is logged at both and counts twice here (trafficEdges counts each byte once).',
  values: Object.fromEntries(FLOW_METRICS.map((m) => [m, { description: METRIC_DOCS[m] }])) as Record<
    FlowMetric,
    { description: string }
  >,
});

/** Time-series bucket widths. */
export const TimeIntervalEnum = builder.enumType('TimeInterval', {
  description: 'Bucket width of a time series; buckets are aligned to UTC midnight and keyed by record start time.',
  values: Object.fromEntries(
    Object.entries(TIME_INTERVALS).map(([k, s]) => [k, { description: `${s} seconds.` }]),
  ) as Record<TimeInterval, { description: string }>,
});

/** Parent shape of every FlowAggregate: values computed on first use (one statement for all selected values). */
export interface AggregateParent {
  values(): Promise<AggregateValues>;
}

async function read(parent: AggregateParent, v: FlowValue): Promise<bigint | number | Date | null> {
  const values = await parent.values();
  if (!(v in values)) throw new Error(`aggregate value ${v} was not computed for this selection`);
  return values[v] ?? null;
}

const count = (v: FlowValue) => async (p: AggregateParent) => (await read(p, v)) as bigint;
const distinct = (v: FlowValue) => async (p: AggregateParent) => Number(await read(p, v));
const extreme = (v: FlowValue) => async (p: AggregateParent) => (await read(p, v)) as bigint | null;
const float = (v: FlowValue) => async (p: AggregateParent) => {
  const value = await read(p, v);
  return value === null ? null : Number(value);
};
const rate = (v: FlowValue) => async (p: AggregateParent) => Number(await read(p, v));

/** Metric fields shared by the summary, each group and each time point. */
export const FlowAggregateRef = builder.interfaceRef<AggregateParent>('FlowAggregate').implement({
  description: 'Values over a set of flow records. Only the fields a query selects are computed.',
  fields: (t) => ({
    [VALUE_FIELD.RECORDS]: t.field({ type: 'BigInt', description: METRIC_DOCS.RECORDS, resolve: count('RECORDS') }),
    [VALUE_FIELD.BYTES]: t.field({ type: 'BigInt', description: METRIC_DOCS.BYTES, resolve: count('BYTES') }),
    [VALUE_FIELD.PACKETS]: t.field({ type: 'BigInt', description: METRIC_DOCS.PACKETS, resolve: count('PACKETS') }),
    acceptedRecords: t.field({
      type: 'BigInt',
      description: METRIC_DOCS.ACCEPTED_RECORDS,
      resolve: count('ACCEPTED_RECORDS'),
    }),
    rejectedRecords: t.field({
      type: 'BigInt',
      description: METRIC_DOCS.REJECTED_RECORDS,
      resolve: count('REJECTED_RECORDS'),
    }),
    nodataRecords: t.field({
      type: 'BigInt',
      description: METRIC_DOCS.NODATA_RECORDS,
      resolve: count('NODATA_RECORDS'),
    }),
    skipdataRecords: t.field({
      type: 'BigInt',
      description: METRIC_DOCS.SKIPDATA_RECORDS,
      resolve: count('SKIPDATA_RECORDS'),
    }),
    distinctSrcAddrs: t.int({ description: METRIC_DOCS.DISTINCT_SRC_ADDRS, resolve: distinct('DISTINCT_SRC_ADDRS') }),
    distinctDstAddrs: t.int({ description: METRIC_DOCS.DISTINCT_DST_ADDRS, resolve: distinct('DISTINCT_DST_ADDRS') }),
    distinctInterfaces: t.int({
      description: METRIC_DOCS.DISTINCT_INTERFACES,
      resolve: distinct('DISTINCT_INTERFACES'),
    }),
    distinctDstPorts: t.int({ description: METRIC_DOCS.DISTINCT_DST_PORTS, resolve: distinct('DISTINCT_DST_PORTS') }),
    avgBytes: t.float({ nullable: true, description: METRIC_DOCS.AVG_BYTES, resolve: float('AVG_BYTES') }),
    minBytes: t.field({
      type: 'BigInt',
      nullable: true,
      description: METRIC_DOCS.MIN_BYTES,
      resolve: extreme('MIN_BYTES'),
    }),
    maxBytes: t.field({
      type: 'BigInt',
      nullable: true,
      description: METRIC_DOCS.MAX_BYTES,
      resolve: extreme('MAX_BYTES'),
    }),
    avgPackets: t.float({ nullable: true, description: METRIC_DOCS.AVG_PACKETS, resolve: float('AVG_PACKETS') }),
    minPackets: t.field({
      type: 'BigInt',
      nullable: true,
      description: METRIC_DOCS.MIN_PACKETS,
      resolve: extreme('MIN_PACKETS'),
    }),
    maxPackets: t.field({
      type: 'BigInt',
      nullable: true,
      description: METRIC_DOCS.MAX_PACKETS,
      resolve: extreme('MAX_PACKETS'),
    }),
    firstSeen: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'Earliest record start (null over no records).',
      resolve: async (p) => (await read(p, 'FIRST_SEEN')) as Date | null,
    }),
    lastSeen: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'Latest record end (null over no records).',
      resolve: async (p) => (await read(p, 'LAST_SEEN')) as Date | null,
    }),
  }),
});

/**
 * Rates over the window's buckets: on the summary and on each group, not on a time point (a bucket's own rate is its
 * bytes x 8 / interval; its sub-buckets would need a second interval per point).
 */
export const FlowRatesRef = builder.interfaceRef<AggregateParent>('FlowRates').implement({
  description:
    'Peak and 95th percentile rates over the `rateInterval` buckets of the window (every bucket, 0 without traffic).',
  fields: (t) => ({
    peakBitsPerSecond: t.float({
      description: METRIC_DOCS.PEAK_BITS_PER_SECOND,
      resolve: rate('PEAK_BITS_PER_SECOND'),
    }),
    p95BitsPerSecond: t.float({ description: METRIC_DOCS.P95_BITS_PER_SECOND, resolve: rate('P95_BITS_PER_SECOND') }),
    peakPacketsPerSecond: t.float({
      description: METRIC_DOCS.PEAK_PACKETS_PER_SECOND,
      resolve: rate('PEAK_PACKETS_PER_SECOND'),
    }),
    p95PacketsPerSecond: t.float({
      description: METRIC_DOCS.P95_PACKETS_PER_SECOND,
      resolve: rate('P95_PACKETS_PER_SECOND'),
    }),
  }),
});

/** `having`: bounds on a group's metric. */
export const MetricBoundInput = builder.inputType('MetricBoundInput', {
  description: 'Keep the groups whose `metric` is within [min, max] (inclusive; either may be left out, not both).',
  fields: (t) => ({
    metric: t.field({ type: FlowMetricEnum, required: true }),
    min: t.float({ description: 'Smallest value kept.' }),
    max: t.float({ description: 'Largest value kept.' }),
  }),
});

/** The value of each grouped dimension; dimensions not grouped by are null. */
export const FlowGroupKeyRef = builder.objectRef<GroupKey>('FlowGroupKey').implement({
  description: 'The key of a group: one field per dimension grouped by (null for the others, and for missing values).',
  fields: (t) => ({
    ...Object.fromEntries(
      FLOW_DIMENSIONS.map((d) => [
        dimensionField(d),
        INT_DIMENSIONS.has(d)
          ? t.int({ nullable: true, description: dimensionDoc(d), resolve: (k) => (k[d] ?? null) as number | null })
          : t.string({ nullable: true, description: dimensionDoc(d), resolve: (k) => (k[d] ?? null) as string | null }),
      ]),
    ),
    protocolName: t.string({
      nullable: true,
      description: 'IANA name of the protocol, when grouped by PROTOCOL.',
      resolve: (k) => (typeof k.PROTOCOL === 'number' ? protocolName(k.PROTOCOL) : null),
    }),
  }),
});

/** A readable label for a key: `10.0.0.1 -> 10.0.0.2` for an address pair, parts joined by ` / ` otherwise. */
export function keyLabel(key: GroupKey, dims: readonly FlowDimension[]): string {
  const parts = dims.map((d) => (key[d] === null || key[d] === undefined ? '(none)' : String(key[d])));
  const pair = dims.length === 2 && dims[0] === 'SRC_ADDR' && dims[1] === 'DST_ADDR';
  return parts.join(pair ? ' -> ' : ' / ') || 'all';
}
