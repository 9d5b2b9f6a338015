/**
 * `generateDataset`: writes a realistic, seeded VPC Flow Logs dataset in AWS's S3 key layout under `<out>/AWSLogs/`,
 * minute by minute, plus `<out>/ground-truth.json` (see ground-truth.ts) beside that tree, not in it: ingest
 * `<out>/AWSLogs` (an ingest of `<out>` would list the truth file too; it is skipped as not a flow log). Memory stays
 * bounded by one 5-minute file window of records and the conversations still open, whatever the number of records.
 * The estate's inventory goes to `<out>/inventory/` (inventory-writer.ts), outside AWSLogs/ too.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createAwsParquetWriter } from './aws-parquet-writer.ts';
import { CrossAccountTraffic } from './cross-account-traffic.ts';
import { DatasetWriter } from './dataset-writer.ts';
import { stringifyGroundTruth, type GroundTruth } from './ground-truth.ts';
import { writeInventory, writeInventorySnapshots, type InventorySnapshot } from './inventory-writer.ts';
import { createPrng } from './prng.ts';
import { RecordLogger } from './record-logger.ts';
import type { Conversation } from './tcp-conversation.ts';
import { ACCOUNTS, buildTopology, type EstateShape, type Topology } from './topology.ts';
import { TrafficPlanner } from './traffic-planner.ts';
import { crossAccountViews, TruthRecorder } from './truth-recorder.ts';

/** Options of a generation run; everything but `outDir` has a default. */
export interface GenerateOptions {
  readonly outDir: string;
  /** Exact number of records to write (default 100 000). */
  readonly records?: number;
  /** 32-bit seed (default 1). */
  readonly seed?: number;
  /** Number of UTC days covered (default 2, so some handshakes straddle midnight). */
  readonly days?: number;
  /** First day, YYYY-MM-DD (default 2024-09-05). */
  readonly start?: string;
  /** gzip level of text objects, 1-9 (default 1: the fastest, objects ~1.3x the size of level 6). */
  readonly gzipLevel?: number;
  /**
   * Which flow logs deliver (default `mixed`; `single-v5`: one account/region, v5 text; `accounts-v5`: 3 accounts and
   * regions, all v5 text; see topology.ts).
   */
  readonly estate?: EstateShape;
  /** Called after each 5-minute file window with the records written so far. */
  readonly onProgress?: (recordsWritten: number, recordsTotal: number) => void;
}

/** What a run wrote. */
export interface GenerateSummary {
  readonly outDir: string;
  readonly groundTruthPath: string;
  /** describe-instances.json and describe-network-interfaces.json of the estate, for `flowql inventory import`. */
  readonly inventoryPaths: readonly string[];
  /** The same over time: a snapshot at the start and one whenever instances were replaced (writeInventorySnapshots). */
  readonly inventorySnapshots: readonly InventorySnapshot[];
  readonly files: number;
  readonly textFiles: number;
  readonly parquetFiles: number;
  readonly bytes: number;
  readonly records: number;
  readonly seconds: number;
  readonly recordsPerSecond: number;
  readonly truth: GroundTruth;
}

/** Default values of the options. */
export const GENERATE_DEFAULTS = {
  records: 100_000,
  seed: 1,
  days: 2,
  start: '2024-09-05',
  gzipLevel: 1,
  estate: 'mixed',
} as const;

/** Checks options and fills defaults; throws one error naming every bad option and what was expected. */
export function resolveGenerateOptions(opts: GenerateOptions): Required<Omit<GenerateOptions, 'onProgress'>> {
  const o = {
    ...GENERATE_DEFAULTS,
    ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)),
  } as Required<GenerateOptions>;
  const problems: string[] = [];
  if (!Number.isSafeInteger(o.records) || o.records < 1)
    problems.push(`records: expected a positive integer, got ${o.records}`);
  if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed > 0xffffffff)
    problems.push(`seed: expected an integer 0..4294967295, got ${o.seed}`);
  if (!Number.isInteger(o.days) || o.days < 1 || o.days > 366)
    problems.push(`days: expected an integer 1..366, got ${o.days}`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(o.start) || new Date(`${o.start}T00:00:00Z`).toISOString().slice(0, 10) !== o.start) {
    problems.push(`start: expected a date YYYY-MM-DD, got ${o.start}`);
  }
  if (!Number.isInteger(o.gzipLevel) || o.gzipLevel < 1 || o.gzipLevel > 9)
    problems.push(`gzipLevel: expected 1..9, got ${o.gzipLevel}`);
  if (o.estate !== 'mixed' && o.estate !== 'single-v5' && o.estate !== 'accounts-v5')
    problems.push(`estate: expected 'mixed', 'single-v5' or 'accounts-v5', got ${String(o.estate)}`);
  if (typeof o.outDir !== 'string' || o.outDir === '') problems.push('outDir: expected a folder path');
  if (problems.length > 0) throw new Error(`invalid generate options: ${problems.join('; ')}`);
  return {
    outDir: o.outDir,
    records: o.records,
    seed: o.seed,
    days: o.days,
    start: o.start,
    gzipLevel: o.gzipLevel,
    estate: o.estate,
  };
}

/** Generates the dataset into `opts.outDir` (created if missing) and returns what was written. */
export async function generateDataset(opts: GenerateOptions): Promise<GenerateSummary> {
  const o = resolveGenerateOptions(opts);
  const began = performance.now();
  const from = Date.parse(`${o.start}T00:00:00Z`) / 1000;
  const minutes = o.days * 1440;
  const to = from + minutes * 60;
  const rng = createPrng(o.seed);
  const topo = buildTopology(rng.fork('topology'), from, to, o.estate);
  await mkdir(o.outDir, { recursive: true });
  const parquet = topo.flowLogs.some((f) => f.fileFormat === 'parquet') ? await createAwsParquetWriter() : null;
  const writer = new DatasetWriter({
    outDir: o.outDir,
    flowLogs: topo.flowLogs,
    seed: o.seed,
    gzipLevel: o.gzipLevel,
    parquet,
  });
  const truth = new TruthRecorder();
  const logger = new RecordLogger(writer);
  const planner = new TrafficPlanner({ rng: rng.fork('traffic'), logger, truth }, topo, to);
  const crossAccount = new CrossAccountTraffic(
    { rng: rng.fork('cross-account'), logger, truth },
    topo.crossAccount,
    to,
  );
  // One cross-account connection every `crossEvery` minutes: about 5% of the records (a connection logs 4 records a
  // window, 2.5 windows on average), within every 15 minutes to 4 hours. The analytics tests' day of 4,000 records
  // has one every 72 minutes, 20 connections, so each of the 8 calls at least twice.
  const crossEvery = Math.max(15, Math.min(240, Math.round((minutes * 200) / o.records)));
  const scanMinute = Math.min(3 * 60, Math.floor(minutes / 8));
  const scanProbes = Math.max(20, Math.min(2000, Math.floor(o.records / 200)));
  const active: { conv: Conversation; k: number }[] = [];
  let committed = 0;
  const start = (conv: Conversation): void => {
    committed += conv.records;
    active.push({ conv, k: 0 });
  };
  try {
    for (let m = 0; m < minutes; m++) {
      const t = from + m * 60;
      const target = Math.floor((o.records * (m + 1)) / minutes);
      if (m === scanMinute && committed + 2 * scanProbes <= o.records) start(planner.scan(t, scanProbes));
      if (m % crossEvery === crossEvery >> 1) {
        const conv = crossAccount.next(t);
        if (conv !== null && committed + conv.records <= o.records) start(conv);
      }
      if ((m + 1) % 1440 === 0 && m + 1 < minutes) {
        for (let i = 0; i < 3; i++) {
          const conv = planner.straddling(t);
          if (conv.records > 0 && committed + conv.records <= o.records) start(conv);
        }
      }
      while (committed < target) start(planner.spawn(t, o.records - committed));
      let kept = 0;
      for (const entry of active) {
        entry.conv.step(entry.k++, t);
        if (entry.k < entry.conv.windows) active[kept++] = entry;
      }
      active.length = kept;
      if ((m + 1) % 5 === 0) {
        await writer.closeWindow(t - 240);
        opts.onProgress?.(writer.records, o.records);
      }
    }
    await writer.finish();
  } finally {
    await parquet?.close();
  }
  if (writer.records !== o.records)
    throw new Error(`generator bug: wrote ${writer.records} records, planned ${o.records}`);
  const groundTruth = buildGroundTruth(o, topo, writer, truth, from, to);
  // Outside AWSLogs/, the flow-log tree that ingest is pointed at.
  const groundTruthPath = join(o.outDir, 'ground-truth.json');
  await writeFile(groundTruthPath, stringifyGroundTruth(groundTruth));
  const inventoryPaths = await writeInventory(o.outDir, topo);
  const inventorySnapshots = await writeInventorySnapshots(o.outDir, topo, from);
  const seconds = (performance.now() - began) / 1000;
  return {
    outDir: o.outDir,
    groundTruthPath,
    inventoryPaths,
    inventorySnapshots,
    files: writer.textFiles + writer.parquetFiles,
    textFiles: writer.textFiles,
    parquetFiles: writer.parquetFiles,
    bytes: writer.bytes,
    records: writer.records,
    seconds,
    recordsPerSecond: Math.round(writer.records / seconds),
    truth: groundTruth,
  };
}

function buildGroundTruth(
  o: ReturnType<typeof resolveGenerateOptions>,
  topo: Topology,
  writer: DatasetWriter,
  truth: TruthRecorder,
  from: number,
  to: number,
): GroundTruth {
  const iso = (s: number): string => new Date(s * 1000).toISOString();
  const used = <T extends { naiveBytes: number }>(list: T[]): T[] => list.filter((e) => e.naiveBytes > 0);
  const byPartition = writer.partitionTruth();
  const sum = (k: 'ok' | 'nodata' | 'skipdata'): number => byPartition.reduce((a, p) => a + p[k], 0);
  const s = truth.scan;
  return {
    generator: 'flowql generate',
    formatVersion: 1,
    seed: o.seed,
    options: { records: o.records, seed: o.seed, days: o.days, start: o.start },
    range: { from: iso(from), to: iso(to) },
    files: {
      total: writer.textFiles + writer.parquetFiles,
      text: writer.textFiles,
      parquet: writer.parquetFiles,
      bytes: writer.bytes,
    },
    flowLogs: writer.flowLogTruth(),
    records: { total: writer.records, ok: sum('ok'), nodata: sum('nodata'), skipdata: sum('skipdata'), byPartition },
    inventory: {
      accounts: [...ACCOUNTS],
      regions: [...new Set(topo.vpcs.map((v) => v.region))].sort(),
      vpcs: topo.vpcs.length,
      instances: topo.instances.length,
      interfaces: topo.interfaces.map((i) => ({
        interfaceId: i.interfaceId,
        ip: i.ip,
        kind: i.kind,
        instanceId: i.instanceId,
        accountId: i.flowLog.accountId,
        vpcId: i.vpcId,
        subnetId: i.subnetId,
        azId: i.azId,
      })),
      natGateways: topo.vpcs.map((v) => ({ vpcId: v.id, interfaceId: v.nat.interfaceId, ip: v.nat.ip })),
      endpoints: topo.vpcs.map((v) => ({ vpcId: v.id, interfaceId: v.endpoint.interfaceId, ip: v.endpoint.ip })),
    },
    tcp: { ...truth.tcp, acrossMidnight: truth.acrossMidnight },
    instancePairs: used(truth.sorted(truth.pairs)),
    crossAccountPairs: used(truth.sorted(truth.crossAccount)),
    crossAccountViews: used(truth.sorted(truth.crossAccount)).flatMap(crossAccountViews),
    interfacePairs: used(truth.sorted(truth.interfacePairs)),
    nat: used(truth.sorted(truth.nat)),
    awsServices: truth.sorted(truth.awsServices).filter((e) => e.flows > 0),
    scan: {
      sourceInstanceId: topo.scanner.id,
      sourceInterfaceId: topo.scanner.iface.interfaceId,
      sourceIp: topo.scanner.iface.ip,
      probes: s.probes,
      distinctPorts: s.ports.size,
      distinctHosts: s.hosts.size,
      records: s.records,
      from: s.probes > 0 ? iso(s.from) : null,
      to: s.probes > 0 ? iso(s.to + 1) : null,
    },
    addressReuse: topo.reuses.flatMap((r) =>
      [r.first, r.second].map((i) => ({
        ip: r.ip,
        instanceId: i.id,
        interfaceId: i.iface.interfaceId,
        from: iso(i.aliveFrom),
        to: iso(i.aliveTo),
      })),
    ),
  };
}
