/**
 * `datasets.flows`: the flow records of a filter as a flat table for BI tools, oldest first by the unique key
 * (start_time, flow_id), so two downloads of the same window list rows in the same order. Columns: the partition
 * columns first (account_id, region, date), then every stored column under its AWS-derived name. `extra` (fields of
 * future flow-log versions, a MAP) is left out: BI tools have no type for it; GraphQL serves it.
 */
import { PARTITION_COLUMNS, STORED_COLUMNS } from '../../domain/flow-schema.ts';
import { build, raw, sql, type SqlFragment, type SqlQuery } from '../sql.ts';
import { endKeySql, tagSpansSql, type NameSources } from './inventory-tag-query.ts';
import { parquetSourceSql } from './parquet-source-query.ts';
import { awsServiceOfSql, networkNameOfSql } from './reference-lookup-query.ts';

/** The record's own columns of the flows dataset, in output order. */
const RECORD_COLUMNS: readonly string[] = [
  ...PARTITION_COLUMNS.map((c) => c.column),
  ...STORED_COLUMNS.map((c) => c.column).filter((c) => c !== 'extra'),
];

/** The names after them, as GraphQL's Flow has them: instanceName, src/dstAwsService, src/dstNetwork, subnet/vpcName. */
const NAME_COLUMNS = [
  'instance_name',
  'src_aws_service',
  'dst_aws_service',
  'src_network',
  'dst_network',
  'subnet_name',
  'vpc_name',
] as const;

/** The flows dataset's columns, in output order. */
export const DATASET_FLOW_COLUMNS: readonly string[] = [...RECORD_COLUMNS, ...NAME_COLUMNS];

const SELECT = raw(RECORD_COLUMNS.map((c) => (c === 'end' ? `f."end"` : `f.${c}`)).join(', '));

// The packet-level ends, as pkt-*-aws-service describes them (and Flow.srcAwsService looks up).
const PACKET = { src: 'coalesce(f.pkt_srcaddr, f.srcaddr)', dst: 'coalesce(f.pkt_dstaddr, f.dstaddr)' } as const;

/**
 * The name columns and the join they need: the logging instance's (else interface's) name at the record's start, the
 * records' own pkt-*-aws-service else AWS's ip-ranges for the packet address, your networks. NULL where the kind of
 * snapshot is not loaded.
 */
function namesSql(n: NameSources): { columns: SqlFragment; join: SqlFragment } {
  const none = raw('NULL::VARCHAR');
  const service = (side: 'src' | 'dst') =>
    sql`coalesce(f.pkt_${raw(side)}_aws_service, ${n.ipRanges ? awsServiceOfSql(PACKET[side], n.ipRanges) : none}) AS ${raw(side)}_aws_service`;
  const network = (side: 'src' | 'dst') =>
    sql`${n.networks ? networkNameOfSql(PACKET[side], n.networks) : none} AS ${raw(side)}_network`;
  const named = n.inventory.snapshots.length > 0;
  const value = (alias: string) => (named ? raw(`${alias}.tag_value`) : none);
  // One relation of spans keyed by instance, interface, subnet and VPC: the logging end, its subnet and its VPC.
  const spans = tagSpansSql(n.inventory, 'name');
  const during = (alias: string) => raw(`f.start_time >= ${alias}.tag_from AND f.start_time < ${alias}.tag_to`);
  return {
    // In NAME_COLUMNS order.
    columns: sql`${value('n')} AS instance_name, ${service('src')}, ${service('dst')}, ${network('src')}, ${network('dst')},
       ${value('ns')} AS subnet_name, ${value('nv')} AS vpc_name`,
    join: named
      ? sql`
LEFT JOIN ${spans} n ON n.tag_end = ${raw(endKeySql('f.instance_id', 'f.interface_id'))} AND ${during('n')}
LEFT JOIN ${spans} ns ON ns.tag_end = f.subnet_id AND ${during('ns')}
LEFT JOIN ${spans} nv ON nv.tag_end = f.vpc_id AND ${during('nv')}`
      : raw(''),
  };
}

/** Rows of `files` matching `where` (from flowFilterSql), oldest first, at most `limit`. */
export function datasetFlowsQuery(input: {
  files: readonly string[];
  where: SqlFragment;
  limit: number;
  names: NameSources;
}): SqlQuery {
  return datasetFlowsRunQuery({ ...input, startUs: null, endUs: null });
}

/** One run of a large flows export: the rows from `startUs` (inclusive) to the next run's start (exclusive). */
export interface FlowRun {
  /** start_time of the run's first row, in microseconds (exact). */
  readonly startUs: bigint;
  /** How many rows of the selection come before the run. */
  readonly firstRow: number;
  readonly rows: number;
}

/**
 * `datasets.flows.runs`: the selection cut into runs of about `runRows` rows, in start_time order, for an export
 * that sorts one run at a time. Rows are counted per distinct start_time (a few per second of the window, however
 * many rows), and a start_time goes to run (rows before it) / runRows, so a run never splits one start_time: its
 * rows sort by flow_id inside the run, and run bounds are plain start_time ranges, which DuckDB pushes into the
 * Parquet scan to skip row groups (ingest writes files sorted by time). A run holds at most runRows rows plus
 * those of its last start_time.
 */
export function datasetFlowRunsQuery(input: {
  files: readonly string[];
  where: SqlFragment;
  runRows: number;
}): SqlQuery {
  return build(
    'datasets.flows.runs',
    sql`WITH times AS (
  SELECT start_time, count(*) AS n
  FROM ${parquetSourceSql(input.files)}
  WHERE ${input.where}
  GROUP BY start_time
), placed AS (
  SELECT start_time, n, sum(n) OVER (ORDER BY start_time ROWS UNBOUNDED PRECEDING) - n AS before
  FROM times
)
SELECT epoch_us(min(start_time)) AS start_us, CAST(min(before) AS BIGINT) AS first_row, CAST(sum(n) AS BIGINT) AS rows
FROM placed
GROUP BY before // ${input.runRows}
ORDER BY start_us`,
  );
}

/**
 * One run of the flows dataset: rows with start_time from `start` (inclusive; null: no lower bound) to `end`
 * (exclusive; null: no upper bound) in (start_time, flow_id) order, cut at `limit` rows when the export's row limit
 * falls inside the run.
 */
export function datasetFlowsRunQuery(input: {
  files: readonly string[];
  where: SqlFragment;
  startUs: bigint | null;
  endUs: bigint | null;
  limit: number | null;
  names: NameSources;
}): SqlQuery {
  const lower =
    input.startUs === null
      ? raw('')
      : sql`
  AND start_time >= make_timestamp(${input.startUs})`;
  const upper = input.endUs === null ? raw('') : sql` AND start_time < make_timestamp(${input.endUs})`;
  const limit =
    input.limit === null
      ? raw('')
      : sql`
LIMIT ${input.limit}`;
  const names = namesSql(input.names);
  // The filter reads the records' columns unqualified: the names' relation has none of theirs.
  if (input.limit === null)
    return build(
      'datasets.flows',
      sql`SELECT ${SELECT}, ${names.columns}
FROM ${parquetSourceSql(input.files)} f${names.join}
WHERE ${input.where}${lower}${upper}
ORDER BY f.start_time, f.flow_id`,
    );
  // A cut run is cut before the names are joined: ORDER BY ... LIMIT straight over the scan lets DuckDB skip the row
  // groups past the rows it keeps (files are sorted by time), where a join in between made it decode every matching
  // record's ~80 columns first (the 1,000 rows of a busy instance's day: 1.1 s of scan for 53k records at 10M). The
  // names' join matches a record at most once (an end's spans do not overlap), so the rows and their order are the same.
  return build(
    'datasets.flows',
    sql`SELECT ${SELECT}, ${names.columns}
FROM (SELECT * FROM ${parquetSourceSql(input.files)}
WHERE ${input.where}${lower}${upper}
ORDER BY start_time, flow_id${limit}) f${names.join}
ORDER BY f.start_time, f.flow_id`,
  );
}

/**
 * The sorted run files of one export (written from datasetFlowsRunQuery, in key order) read back as one relation in
 * that order: DuckDB's multi-file scan keeps file order while insertion order is preserved (its default).
 */
export function datasetRunsQuery(runFiles: readonly string[]): SqlQuery {
  return build('datasets.flows', sql`SELECT * FROM read_parquet(${runFiles}, hive_partitioning = false)`);
}
