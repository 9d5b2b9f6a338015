/**
 * Buffers rendered records per flow log for the current 5-minute file window and writes each window's objects as it
 * closes: text objects as gzip (one `zlib.gzip` of the whole object on libuv's thread pool, so generation continues
 * on the main thread), Parquet objects through DuckDB. Lines are rendered straight into reused byte buffers (see
 * line-buffer.ts); at most a few objects are in flight, which bounds memory whatever the dataset size. It also counts
 * records per flowql partition for the ground truth.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { headerLine, type FlowRecord } from './flow-log-formats.ts';
import { LineBuffer } from './line-buffer.ts';
import { compileLineEncoder, type LineEncoder, type PreparedInterface } from './line-encoder.ts';
import { buildObjectKey } from './object-key-builder.ts';
import type { AwsParquetWriter } from './aws-parquet-writer.ts';
import type { FlowLogTruth, PartitionTruth } from './ground-truth.ts';
import type { FlowLogDef, Iface } from './topology.ts';

const gzipAsync = promisify(gzip);
// Text objects in flight (gzip on the thread pool): enough to keep both cores busy while the main thread renders the
// next window. Parquet objects wait for a batch (aws-parquet-writer.ts) as staged files, not in memory.
const MAX_TEXT_IN_FLIGHT = 4;
const MAX_PARQUET_IN_FLIGHT = 64;
// Buffers kept for reuse once their object is written: reusing them spares allocating (and the collector tracking)
// a fresh multi-megabyte buffer per object.
const MAX_POOLED = 16;
const INITIAL_BUFFER = 64 * 1024;
const ACCOUNT_ID = /^\d{12}$/;
const NEWLINE = 10;

interface FlowLogState {
  readonly def: FlowLogDef;
  readonly encoder: LineEncoder;
  readonly header: string;
  /** The current window's bytes: the header line (text objects), then one line per record. */
  readonly out: LineBuffer;
  /** Lines in the current window. */
  pending: number;
  files: number;
  records: number;
}

/** Counters of one interface's partition: per UTC day number, [ok, nodata, skipdata]; the last day is cached. */
interface InterfaceSlot {
  readonly log: FlowLogState;
  readonly prepared: PreparedInterface;
  readonly accountId: string;
  readonly region: string;
  readonly days: Map<number, number[]>;
  day: number;
  counts: number[];
}

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
  private readonly slots = new Map<Iface, InterfaceSlot>();
  private readonly textInFlight: Promise<void>[] = [];
  private readonly parquetInFlight: Promise<void>[] = [];
  private readonly pool: Uint8Array[] = [];
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
      const state: FlowLogState = {
        def,
        encoder: compileLineEncoder(def.fields),
        header: headerLine(def.fields),
        out: new LineBuffer(new Uint8Array(INITIAL_BUFFER)),
        pending: 0,
        files: 0,
        records: 0,
      };
      this.startWindow(state);
      this.states.set(def, state);
    }
  }

  /** Adds one record logged at `iface`; the record's `start` decides its partition date. */
  emit(iface: Iface, r: FlowRecord): void {
    const slot = this.slots.get(iface) ?? this.addSlot(iface);
    const state = slot.log;
    r.version = state.def.version;
    state.encoder.encode(r, state.out, slot.prepared);
    state.pending++;
    state.records++;
    this.records++;
    const day = Math.floor(r.start / 86_400);
    if (day !== slot.day) {
      let counts = slot.days.get(day);
      if (counts === undefined) slot.days.set(day, (counts = [0, 0, 0]));
      slot.day = day;
      slot.counts = counts;
    }
    const status = r['log-status'];
    slot.counts[status === 'NODATA' ? 1 : status === 'SKIPDATA' ? 2 : 0]!++;
  }

  /** Writes the objects of the file window starting at `windowStart` (records whose `end` falls in it). */
  async closeWindow(windowStart: number): Promise<void> {
    for (const state of this.states.values()) {
      if (state.pending === 0) continue;
      const key = buildObjectKey(state.def, windowStart, this.options.seed);
      const body = state.out.bytes();
      state.out.buf = this.pool.pop() ?? new Uint8Array(Math.max(INITIAL_BUFFER, body.length + (body.length >> 2)));
      this.startWindow(state);
      state.pending = 0;
      state.files++;
      if (state.def.fileFormat === 'parquet') {
        if (this.parquetInFlight.length >= MAX_PARQUET_IN_FLIGHT) {
          void this.options.parquet?.flush();
          while (this.parquetInFlight.length >= MAX_PARQUET_IN_FLIGHT) await this.parquetInFlight.shift();
        }
        this.parquetInFlight.push(this.writeParquet(state, key, body));
      } else {
        while (this.textInFlight.length >= MAX_TEXT_IN_FLIGHT) await this.textInFlight.shift();
        this.textInFlight.push(this.writeText(key, body));
      }
    }
  }

  /** Waits for every object in flight. */
  async finish(): Promise<void> {
    if (this.parquetInFlight.length > 0) void this.options.parquet?.flush();
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
    for (const { accountId, region, days } of this.slots.values()) {
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

  private startWindow(state: FlowLogState): void {
    state.out.length = 0;
    if (state.def.fileFormat === 'text') {
      state.out.reserve();
      state.out.ascii(state.header);
      state.out.byte(NEWLINE);
    }
  }

  private addSlot(iface: Iface): InterfaceSlot {
    const log = this.states.get(iface.flowLog);
    if (log === undefined) throw new Error(`dataset-writer: interface ${iface.interfaceId} has an unknown flow log`);
    const accountId = ACCOUNT_ID.test(iface.recordAccountId) ? iface.recordAccountId : iface.flowLog.accountId;
    const slot: InterfaceSlot = {
      log,
      prepared: log.encoder.prepare({ ...iface, version: log.def.version }),
      accountId,
      region: iface.region,
      days: new Map(),
      day: NaN,
      counts: [],
    };
    this.slots.set(iface, slot);
    return slot;
  }

  /** Hands a written window's buffer back for reuse (the whole backing store, not the view). */
  private release(bytes: Uint8Array): void {
    if (this.pool.length < MAX_POOLED) this.pool.push(new Uint8Array(bytes.buffer, bytes.byteOffset));
  }

  private async writeText(key: string, body: Uint8Array): Promise<void> {
    let zipped: Buffer;
    try {
      // One output chunk for the whole object when it compresses to under half its size, so it is one thread-pool job.
      const chunkSize = Math.max(64 * 1024, Math.min(16 << 20, body.length >> 1));
      zipped = await gzipAsync(body, { level: this.options.gzipLevel, chunkSize });
    } finally {
      this.release(body);
    }
    const path = join(this.options.outDir, key);
    await this.ensureDir(dirname(path));
    await writeFile(path, zipped);
    this.textFiles++;
    this.bytes += zipped.length;
  }

  private async writeParquet(state: FlowLogState, key: string, lines: Uint8Array): Promise<void> {
    const path = join(this.options.outDir, key);
    if (this.options.parquet === null)
      throw new Error(`dataset-writer: flow log ${state.def.id} delivers Parquet but no Parquet writer was given`);
    const { staged, written } = this.options.parquet.write(state.def.fields, lines, path);
    const [, size] = await Promise.all([staged.finally(() => this.release(lines)), written]);
    this.parquetFiles++;
    this.bytes += size;
  }

  private async ensureDir(dir: string): Promise<void> {
    if (this.madeDirs.has(dir)) return;
    await mkdir(dir, { recursive: true });
    this.madeDirs.add(dir);
  }
}
