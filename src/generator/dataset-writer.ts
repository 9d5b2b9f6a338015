/**
 * Buffers rendered records per flow log for the current 5-minute file window and writes each window's objects as it
 * closes: text objects as gzip (compressed on libuv's thread pool, so generation continues on the main thread),
 * Parquet objects through DuckDB. At most a few objects are in flight, which bounds memory whatever the dataset size.
 * It also counts records per flowql partition for the ground truth.
 */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { compileRenderer, headerLine, type FlowRecord } from './flow-log-formats.ts';
import { buildObjectKey } from './object-key-builder.ts';
import type { AwsParquetWriter } from './aws-parquet-writer.ts';
import type { FlowLogTruth, PartitionTruth } from './ground-truth.ts';
import type { FlowLogDef, Iface } from './topology.ts';

const gzipAsync = promisify(gzip);
// Text objects in flight (gzip on the thread pool). Parquet objects queue on DuckDB's one connection and are small,
// so more may wait without holding up generation.
const MAX_TEXT_IN_FLIGHT = 8;
const MAX_PARQUET_IN_FLIGHT = 64;
const ACCOUNT_ID = /^\d{12}$/;
const STATUS_INDEX: Readonly<Record<string, number>> = { OK: 0, NODATA: 1, SKIPDATA: 2 };

interface FlowLogState {
  readonly def: FlowLogDef;
  readonly render: (r: FlowRecord) => string;
  readonly header: string;
  /** The current window's lines, appended as bytes at once: holding millions of short strings until the window
   * closes would promote them all to the old generation and make garbage collection the bottleneck. */
  buf: Buffer;
  length: number;
  /** Lines in the current window. */
  pending: number;
  files: number;
  records: number;
}

const INITIAL_BUFFER = 64 * 1024;

/** Counters of one interface's partition: per UTC day number, [ok, nodata, skipdata]. */
type PartitionCounters = { readonly accountId: string; readonly region: string; readonly days: Map<number, number[]> };

/** Options of the writer. */
export interface DatasetWriterOptions {
  readonly outDir: string;
  readonly flowLogs: readonly FlowLogDef[];
  readonly seed: number;
  /** gzip level for text objects (AWS does not document its own). */
  readonly gzipLevel: number;
  /** Needed when a flow log delivers Parquet. */
  readonly parquet: AwsParquetWriter | null;
}

/** Writes the objects of a dataset window by window. */
export class DatasetWriter {
  private readonly states = new Map<FlowLogDef, FlowLogState>();
  private readonly partitions = new Map<Iface, PartitionCounters>();
  private readonly textInFlight: Promise<void>[] = [];
  private readonly parquetInFlight: Promise<void>[] = [];
  private readonly madeDirs = new Set<string>();
  private readonly options: DatasetWriterOptions;
  /** Objects written so far, with their sizes. */
  textFiles = 0;
  parquetFiles = 0;
  bytes = 0;
  records = 0;

  constructor(options: DatasetWriterOptions) {
    this.options = options;
    for (const def of options.flowLogs) {
      const header = headerLine(def.fields);
      this.states.set(def, {
        def,
        render: compileRenderer(def.fields),
        header,
        buf: Buffer.allocUnsafe(INITIAL_BUFFER),
        length: 0,
        pending: 0,
        files: 0,
        records: 0,
      });
    }
  }

  /** Adds one record logged at `iface`; the record's `start` decides its partition date. */
  emit(iface: Iface, r: FlowRecord): void {
    const state = this.states.get(iface.flowLog)!;
    r.version = state.def.version;
    const line = state.render(r);
    if (state.length + line.length + 1 > state.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(state.buf.length * 2, state.length + line.length + 1));
      state.buf.copy(bigger, 0, 0, state.length);
      state.buf = bigger;
    }
    state.length += state.buf.write(line, state.length, 'latin1');
    state.buf[state.length++] = 10;
    state.pending++;
    state.records++;
    this.records++;
    let counters = this.partitions.get(iface);
    if (counters === undefined) {
      const accountId = ACCOUNT_ID.test(iface.recordAccountId) ? iface.recordAccountId : iface.flowLog.accountId;
      counters = { accountId, region: iface.region, days: new Map() };
      this.partitions.set(iface, counters);
    }
    const day = Math.floor(r.start / 86_400);
    let perDay = counters.days.get(day);
    if (perDay === undefined) counters.days.set(day, (perDay = [0, 0, 0]));
    perDay[STATUS_INDEX[r['log-status']] ?? 0]!++;
  }

  /** Writes the objects of the file window starting at `windowStart` (records whose `end` falls in it). */
  async closeWindow(windowStart: number): Promise<void> {
    for (const state of this.states.values()) {
      if (state.pending === 0) continue;
      const key = buildObjectKey(state.def, windowStart, this.options.seed);
      const body = state.buf.subarray(0, state.length);
      state.buf = Buffer.allocUnsafe(Math.max(INITIAL_BUFFER, state.length + (state.length >> 2)));
      state.length = 0;
      state.pending = 0;
      state.files++;
      if (state.def.fileFormat === 'parquet') {
        while (this.parquetInFlight.length >= MAX_PARQUET_IN_FLIGHT) await this.parquetInFlight.shift();
        this.parquetInFlight.push(this.writeParquet(state, key, body));
      } else {
        while (this.textInFlight.length >= MAX_TEXT_IN_FLIGHT) await this.textInFlight.shift();
        this.textInFlight.push(this.writeText(state, key, body));
      }
    }
  }

  /** Waits for every object in flight. */
  async finish(): Promise<void> {
    for (const queue of [this.textInFlight, this.parquetInFlight]) while (queue.length > 0) await queue.shift();
  }

  /** What each flow log delivered. */
  flowLogTruth(): FlowLogTruth[] {
    return [...this.states.values()].map((s) => ({
      flowLogId: s.def.id,
      accountId: s.def.accountId,
      region: s.def.region,
      vpcId: s.def.vpcId,
      format: s.def.formatName,
      header: s.header,
      fileFormat: s.def.fileFormat,
      layout: s.def.layout,
      files: s.files,
      records: s.records,
    }));
  }

  /** Record counts per flowql partition, sorted by account, region, date. */
  partitionTruth(): PartitionTruth[] {
    const merged = new Map<string, PartitionTruth & { counts: number[] }>();
    for (const { accountId, region, days } of this.partitions.values()) {
      for (const [day, counts] of days) {
        const date = new Date(day * 86_400_000).toISOString().slice(0, 10);
        const key = `${accountId}|${region}|${date}`;
        const entry = merged.get(key) ?? {
          accountId,
          region,
          date,
          ok: 0,
          nodata: 0,
          skipdata: 0,
          total: 0,
          counts: [0, 0, 0],
        };
        counts.forEach((c, i) => (entry.counts[i]! += c));
        merged.set(key, entry);
      }
    }
    return [...merged.keys()].sort().map((k) => {
      const { accountId, region, date, counts } = merged.get(k)!;
      const [ok, nodata, skipdata] = counts as [number, number, number];
      return { accountId, region, date, ok, nodata, skipdata, total: ok + nodata + skipdata };
    });
  }

  private async writeText(state: FlowLogState, key: string, lines: Buffer): Promise<void> {
    const body = await gzipAsync(Buffer.concat([Buffer.from(`${state.header}\n`), lines]), {
      level: this.options.gzipLevel,
      chunkSize: 1 << 20,
    });
    const path = join(this.options.outDir, key);
    await this.ensureDir(dirname(path));
    await writeFile(path, body);
    this.textFiles++;
    this.bytes += body.length;
  }

  private async writeParquet(state: FlowLogState, key: string, lines: Buffer): Promise<void> {
    const path = join(this.options.outDir, key);
    if (this.options.parquet === null)
      throw new Error(`dataset-writer: flow log ${state.def.id} delivers Parquet but no Parquet writer was given`);
    await this.options.parquet.write(state.def.fields, lines, path);
    this.parquetFiles++;
    const { size } = await stat(path); // not `this.bytes += await ...`: that reads this.bytes before the await
    this.bytes += size;
  }

  private async ensureDir(dir: string): Promise<void> {
    if (this.madeDirs.has(dir)) return;
    await mkdir(dir, { recursive: true });
    this.madeDirs.add(dir);
  }
}
