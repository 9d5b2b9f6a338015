/**
 * Coverage and freshness: `datasets` (each table as a whole), `partitions` (account/region/date with files, records,
 * bytes), `ingestStatus` (objects, records, rejects, last ingest) from the committed manifest, and
 * `interfaceStatus` (OK/NODATA/SKIPDATA per interface) from one query.
 */
import { assertAccountsAllowed } from '../../domain/forbidden-error.ts';
import { AGGREGATE_LIMITS, checkCount } from '../../domain/aggregate-enums.ts';
import { InputError } from '../../domain/input-error.ts';
import { REFERENCE_KINDS, type ReferenceKind } from '../../domain/reference-tables.ts';
import { TABLES, type ManifestReference, type TableName } from '../../store/layout.ts';
import {
  listPartitions,
  readInterfaceStatus,
  summarizeDatasets,
  type DatasetInfo,
  type InterfaceStatus,
  type PartitionInfo,
} from '../../questions/partition-reader.ts';
import { builder } from '../builder.ts';
import { FlowFilterInput, resolveFlowFilter } from './flow-filter-input.ts';

const TABLE_DESCRIPTIONS: Readonly<Record<TableName | ReferenceKind, string>> = {
  ip_ranges:
    "Reference table: AWS's published ip-ranges.json as imported (`flowql ip-ranges import`), which names the AWS " +
    'service and region of public addresses at query time; `snapshot` says which one. No partitions.',
  networks:
    'Reference table: your own networks (`flowql networks import`), CIDR -> name and attributes, looked up at query ' +
    'time; `snapshot` says which file. No partitions.',
  inventory:
    'Reference table: an EC2 inventory snapshot (`flowql inventory import`), one entry per snapshot: instances and ' +
    'interfaces with their Name tag and tags, naming endpoints from its as-of time (`snapshot.createdAt`). No partitions.',
  flows: 'Flow records as ingested, one row per record.',
  handshakes: "TCP handshakes paired from an account's records in every region (derived at ingest).",
  edges:
    "Client -> server traffic per hour from an account's records in every region, each byte counted once (derived at ingest).",
  flows_hourly:
    'Records summed per hour over every column but the source port and TCP flags (derived at ingest; one-day aggregates read it).',
  flows_daily:
    'flows_hourly rows summed per UTC day, same columns (written by `flowql compact` for closed days, dropped when a day changes; long-window aggregates read it).',
  org_handshakes:
    'TCP handshakes paired across every account and region, each filed under one region (derived at ingest where several accounts log; no account partition).',
  org_edges:
    'Client -> server traffic per hour across every account and region, each byte counted once (derived where several accounts log).',
  edges_daily:
    'edges rows summed per UTC day, same columns (`bucket` is the day; written by `flowql compact` for closed days, dropped when a day changes; edge questions over whole days read it).',
  org_edges_daily:
    'org_edges rows summed per UTC day, same columns (`bucket` is the day; written by `flowql compact` for closed days, dropped when a day changes).',
};

const ROWS_DESCRIPTION =
  'Rows of the table: flow records for FLOWS; for a derived table its own rows (handshakes, edge-hours, hourly groups).';

/** Warehouse tables. */
export const DatasetTableEnum = builder.enumType('DatasetTable', {
  description: 'A table of the warehouse: flow records, a table derived from them, or a reference table.',
  values: Object.fromEntries(
    [...TABLES, ...REFERENCE_KINDS].map((t) => [t.toUpperCase(), { value: t, description: TABLE_DESCRIPTIONS[t] }]),
  ) as Record<Uppercase<TableName | ReferenceKind>, { value: TableName | ReferenceKind; description: string }>,
});

const ReferenceSnapshotRef = builder.objectRef<ManifestReference>('ReferenceSnapshot').implement({
  description: 'The loaded snapshot of a reference table.',
  fields: (t) => ({
    version: t.exposeString('version', {
      description: "ip_ranges: AWS's syncToken; networks: a hash of the file's entries (the same file is one version).",
    }),
    createdAt: t.field({
      type: 'DateTime',
      description: "ip_ranges: AWS's createDate, how old the ranges are; networks: when the file was imported.",
      resolve: (r) => new Date(r.createdAt),
    }),
    importedAt: t.field({ type: 'DateTime', resolve: (r) => new Date(r.importedAt) }),
    source: t.exposeString('source', { description: 'Name of the imported file.' }),
    rows: t.exposeInt('rows', { description: 'Entries (prefixes) in the snapshot.' }),
  }),
});

const DatasetRef = builder.objectRef<DatasetInfo>('Dataset').implement({
  description: 'One table of the warehouse as committed (what queries can see).',
  fields: (t) => ({
    table: t.field({ type: DatasetTableEnum, resolve: (d) => d.table }),
    accountIds: t.stringList({ resolve: (d) => [...d.accountIds] }),
    regions: t.stringList({ resolve: (d) => [...d.regions] }),
    firstDate: t.string({ description: 'Oldest UTC date with data (YYYY-MM-DD).', resolve: (d) => d.firstDate }),
    lastDate: t.string({ description: 'Newest UTC date with data (YYYY-MM-DD).', resolve: (d) => d.lastDate }),
    partitionCount: t.int({ resolve: (d) => d.partitions }),
    files: t.int({ resolve: (d) => d.files }),
    records: t.field({ type: 'BigInt', description: ROWS_DESCRIPTION, resolve: (d) => BigInt(d.records) }),
    bytes: t.field({ type: 'BigInt', description: 'Bytes of Parquet on disk.', resolve: (d) => BigInt(d.bytes) }),
    snapshot: t.field({
      type: ReferenceSnapshotRef,
      nullable: true,
      description: 'For a reference table (IP_RANGES, NETWORKS): the snapshot loaded and how old it is.',
      resolve: (d) => d.snapshot,
    }),
  }),
});

const PartitionRef = builder.objectRef<PartitionInfo>('Partition').implement({
  description: 'One partition (account, region, UTC date) of a table.',
  fields: (t) => ({
    table: t.field({ type: DatasetTableEnum, resolve: (p) => p.table }),
    accountId: t.exposeString('accountId'),
    region: t.exposeString('region'),
    date: t.exposeString('date', { description: 'YYYY-MM-DD (UTC).' }),
    files: t.exposeInt('files'),
    records: t.field({ type: 'BigInt', description: ROWS_DESCRIPTION, resolve: (p) => BigInt(p.records) }),
    bytes: t.field({ type: 'BigInt', description: 'Bytes of Parquet on disk.', resolve: (p) => BigInt(p.bytes) }),
  }),
});

const PartitionListRef = builder
  .objectRef<{ nodes: PartitionInfo[]; totalCount: number; truncated: boolean }>('PartitionList')
  .implement({
    description: 'Partitions, newest date first, then account and region.',
    fields: (t) => ({
      nodes: t.field({ type: [PartitionRef], resolve: (l) => l.nodes }),
      totalCount: t.exposeInt('totalCount', { description: 'Partitions matching, before `first`.' }),
      truncated: t.exposeBoolean('truncated'),
    }),
  });

interface IngestParent {
  generation: number;
  updatedAt: string;
  objects: number;
  records: number;
  rejects: number;
  lastIngestAt: string | null;
  skippedObjects?: number;
}

const IngestStatusRef = builder.objectRef<IngestParent>('IngestStatus').implement({
  description: 'What the ingester has committed so far (freshness).',
  fields: (t) => ({
    generation: t.exposeInt('generation', { description: 'Increases with every commit.' }),
    updatedAt: t.field({ type: 'DateTime', resolve: (s) => s.updatedAt }),
    objects: t.exposeInt('objects', { description: 'Source objects ingested.' }),
    records: t.field({ type: 'BigInt', resolve: (s) => BigInt(s.records) }),
    rejects: t.field({ type: 'BigInt', description: 'Malformed lines set aside.', resolve: (s) => BigInt(s.rejects) }),
    skippedObjects: t.int({
      description:
        'Source objects skipped because their content is not a flow log (digests, manifests, `_SUCCESS` markers, READMEs); each is recorded once with its reason in the ingest ledger and read again only when it changes.',
      resolve: (s) => s.skippedObjects ?? 0,
    }),
    lastIngestAt: t.field({ type: 'DateTime', nullable: true, resolve: (s) => s.lastIngestAt }),
  }),
});

const InterfaceStatusRef = builder.objectRef<InterfaceStatus>('InterfaceStatus').implement({
  description: 'How one interface logged: NODATA = no traffic in a window; SKIPDATA = AWS skipped records (a gap).',
  fields: (t) => ({
    accountId: t.exposeString('accountId'),
    region: t.exposeString('region'),
    interfaceId: t.exposeString('interfaceId', { nullable: true }),
    records: t.field({ type: 'BigInt', resolve: (s) => s.records }),
    okRecords: t.field({ type: 'BigInt', resolve: (s) => s.okRecords }),
    nodataRecords: t.field({ type: 'BigInt', resolve: (s) => s.nodataRecords }),
    skipdataRecords: t.field({ type: 'BigInt', resolve: (s) => s.skipdataRecords }),
    firstSeen: t.field({ type: 'DateTime', nullable: true, resolve: (s) => s.firstSeen }),
    lastSeen: t.field({ type: 'DateTime', nullable: true, resolve: (s) => s.lastSeen }),
  }),
});

const InterfaceStatusListRef = builder
  .objectRef<{ rows: InterfaceStatus[]; truncated: boolean }>('InterfaceStatusList')
  .implement({
    fields: (t) => ({
      rows: t.field({ type: [InterfaceStatusRef], resolve: (l) => l.rows }),
      truncated: t.exposeBoolean('truncated'),
    }),
  });

const DATE = /^\d{4}-\d{2}-\d{2}$/;
function dateArg(argument: string, value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  if (!DATE.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`)))
    throw new InputError(argument, 'a date YYYY-MM-DD', value);
  return value;
}

const MAX_PARTITIONS = 10_000;

builder.queryFields((t) => ({
  datasets: t.field({
    type: [DatasetRef],
    description: 'Each table that holds data: accounts, regions, first/last date, partitions, files, records, bytes.',
    resolve: async (_root, _args, ctx) => summarizeDatasets(await ctx.query.warehouse.manifest()),
  }),

  partitions: t.field({
    type: PartitionListRef,
    description: 'Partitions of a table with their files, records and bytes (dates inclusive).',
    args: {
      table: t.arg({ type: DatasetTableEnum, required: true, defaultValue: 'flows' }),
      accountIds: t.arg.stringList(),
      regions: t.arg.stringList(),
      fromDate: t.arg.string({ description: 'YYYY-MM-DD, inclusive.' }),
      toDate: t.arg.string({ description: 'YYYY-MM-DD, inclusive.' }),
      first: t.arg.int({ required: true, defaultValue: 1000, description: `1 to ${MAX_PARTITIONS}.` }),
    },
    resolve: async (_root, args, ctx) => {
      const first = checkCount('first', args.first, 1, MAX_PARTITIONS);
      assertAccountsAllowed(ctx.scopeAccountIds, args.accountIds, 'accountIds');
      const query = {
        table: args.table,
        accountIds: args.accountIds ?? null,
        regions: args.regions ?? null,
        fromDate: dateArg('fromDate', args.fromDate),
        toDate: dateArg('toDate', args.toDate),
      };
      const all = listPartitions(await ctx.query.warehouse.manifest(), query);
      return { nodes: all.slice(0, first), totalCount: all.length, truncated: all.length > first };
    },
  }),

  ingestStatus: t.field({
    type: IngestStatusRef,
    description:
      'Freshness: the manifest generation, objects and records ingested, rejects, last ingest time. For a key scoped to ' +
      'accounts: the objects whose S3 key names one of them or that hold rows of one of them, each once, and their rejects.',
    resolve: async (_root, _args, ctx) => {
      const m = await ctx.query.warehouse.manifest();
      return { generation: m.generation, updatedAt: m.updatedAt, ...m.ingest };
    },
  }),

  interfaceStatus: t.field({
    type: InterfaceStatusListRef,
    description: 'Per interface: records, OK, NODATA and SKIPDATA counts, SKIPDATA first (coverage gaps).',
    args: {
      filter: t.arg({ type: FlowFilterInput, required: true }),
      limit: t.arg.int({ required: true, defaultValue: 100, description: `1 to ${AGGREGATE_LIMITS.maxTopN}.` }),
    },
    resolve: async (_root, args, ctx) => {
      const filter = await resolveFlowFilter(ctx, args.filter, 'filter', { aggregate: true });
      const limit = checkCount('limit', args.limit, 1, AGGREGATE_LIMITS.maxTopN);
      return readInterfaceStatus(ctx.query, filter, limit);
    },
  }),
}));
