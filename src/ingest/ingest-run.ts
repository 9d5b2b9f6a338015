/**
 * `flowql ingest`: lists the sources, orders the pending objects (new, changed or previously failed) by the time their
 * keys name, prepares them (downloaded, sniffed, scanned) a few at a time, loads plain text objects of one layout in groups with one statement each (any
 * other object alone) into the batch table, and commits every `batchRecords` records: Parquet files staged per partition, the ledger
 * updated in one transaction, files published, manifest replaced. Unchanged objects are skipped, so re-running the
 * same command (from cron) loads only what is new; a changed object's old rows are removed in the same commit.
 * An object that is not a flow log (by content: a digest, a README, `_SUCCESS`) is recorded once as skipped and read
 * again only when it changes, like a loaded one; only read failures are retried on every run.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { backlogOrder } from './backlog-order.ts';
import { listBacklog } from './ingest-backlog.ts';
import { commit, recover, type RecoveryReport, type StageHook } from './ingest-commit.ts';
import { deriveForCommit, staleDerivedFiles } from './ingest-derive.ts';
import { openIngestEngine, type EngineOptions } from './ingest-engine.ts';
import {
  loadPrepared,
  loadPreparedGroup,
  prepareObject,
  type ObjectResult,
  type PreparedObject,
  type PreparedText,
} from './ingest-object.ts';
import { filesHoldingSources, nextIds, type CommitPlan } from './ledger.ts';
import { flushBatch, rewriteFiles, type PartitionKey, type StagedFile } from './parquet-writer.ts';
import type { SourceListOptions } from './sources/source-list.ts';
import type { RecentListing } from './sources/recent-listing.ts';
import type { WarehouseStorage } from './warehouse-storage.ts';

/** A step run after each commit with the partitions it touched (e.g. deriving handshakes and edges for them). */
export type PostCommitStep = (ctx: { partitions: readonly PartitionKey[]; storage: WarehouseStorage }) => Promise<void>;

/** Progress, reported after every object. */
export interface IngestProgress {
  readonly objectsDone: number;
  readonly records: number;
  readonly bytesRead: number;
  readonly current: string;
}

/** Options of one ingest run. */
export interface IngestOptions extends EngineOptions, SourceListOptions {
  readonly sources: readonly string[];
  readonly storage: WarehouseStorage;
  /** Records per commit (default 2,000,000): bounds memory and the work a crash can lose. */
  readonly batchRecords?: number;
  readonly postCommit?: readonly PostCommitStep[];
  /**
   * Derive the derived tables (handshakes/, edges/, flows_hourly/) of the changed partitions inside each commit
   * (ingest-derive.ts). Default true; false retires the changed partitions' derived files instead, so they are never
   * stale.
   */
  readonly derive?: boolean;
  readonly onProgress?: (p: IngestProgress) => void;
  readonly onLog?: (line: string) => void;
  /** Internal (crash tests): called after each commit stage. */
  readonly stageHook?: StageHook;
  /** `--watch`: what to list at this run, kept across runs (recent-listing.ts); without it every source whole. */
  readonly listing?: RecentListing;
}

/** What a run did. */
export interface IngestSummary {
  readonly warehouse: string;
  /**
   * Objects listed; loaded; skipped (unchanged since they were loaded or found not to be flow logs); replaced (a
   * changed version loaded); notFlowLogs (found this run not to be flow logs, recorded as skipped); failed (to retry).
   */
  readonly objects: {
    readonly listed: number;
    readonly loaded: number;
    readonly skipped: number;
    readonly replaced: number;
    readonly notFlowLogs: number;
    readonly failed: number;
  };
  readonly records: number;
  readonly rejects: number;
  /** Rejected lines counted but not in the ledger's rejects table, which keeps the first MAX_REJECTS_KEPT per object. */
  readonly rejectsNotKept: number;
  readonly rejectRatio: number;
  readonly partitionsTouched: number;
  readonly filesWritten: number;
  readonly bytesWritten: number;
  readonly bytesRead: number;
  readonly elapsedMs: number;
  readonly recordsPerSecond: number;
  readonly failures: readonly { uri: string; error: string }[];
  /** Objects found this run not to be flow logs, with the reason (recorded in the ledger; not read again unchanged). */
  readonly notFlowLogs: readonly { uri: string; reason: string }[];
  readonly recovery: RecoveryReport;
}

interface Pending {
  readonly results: ObjectResult[];
  /** uri -> source id of the loaded older version being replaced. */
  readonly replacing: Map<string, number>;
  records: number;
}

const key = (p: PartitionKey) => `${p.accountId}/${p.region}/${p.date}`;

/** Objects downloaded, sniffed and scanned ahead of the loaders (S3 downloads run concurrently, bounded by this). */
const PREPARE_AHEAD = 8;
/** Most objects read by one statement: bounds its file list and the downloads waiting for it. */
const GROUP_MAX_OBJECTS = 128;
/**
 * Lines a group collects before it is read (fewer with a smaller --batch-records). Below a DuckDB row group (122,880
 * rows), whose larger inserts the batch keeps uncompressed (ingest-batch-tables.ts); two loaders get work.
 */
const GROUP_MAX_LINES = 100_000;

/** Runs one ingest. Throws only for problems with the warehouse or a source listing, never for one bad object. */
export async function runIngest(opts: IngestOptions): Promise<IngestSummary> {
  const started = Date.now();
  const { storage } = opts;
  const log = opts.onLog ?? (() => {});
  const hook = opts.stageHook ?? (async () => {});
  const batchRecords = opts.batchRecords ?? 2_000_000;
  // One DuckDB thread per statement, the loads side by side (EngineOptions.oneThreadPerStatement).
  const engine = await openIngestEngine(await storage.ledgerPath(), storage.stagingDir, {
    ...opts,
    oneThreadPerStatement: true,
  });
  const c = engine.main;
  try {
    const recovery = await recover(c, storage);
    if (recovery.rolledForward + recovery.stagedRemoved + recovery.orphansRemoved > 0) {
      log(
        `recovered: ${recovery.rolledForward} commit(s) rolled forward, ${recovery.stagedRemoved} staged and ${recovery.orphansRemoved} orphan file(s) removed`,
      );
    }
    let { sourceId: nextSource, commitId: nextCommit } = await nextIds(c);
    let rejectsNotKept = 0;
    const totals = {
      listed: 0,
      loaded: 0,
      skipped: 0,
      replaced: 0,
      notFlowLogs: 0,
      failed: 0,
      records: 0,
      rejects: 0,
      files: 0,
      bytes: 0,
      read: 0,
    };
    const touched = new Set<string>();
    const failures: { uri: string; error: string }[] = [];
    const notFlowLogs: { uri: string; reason: string }[] = [];
    let pending: Pending = { results: [], replacing: new Map(), records: 0 };

    const flush = async () => {
      if (pending.results.length === 0) return;
      const batch = pending;
      pending = { results: [], replacing: new Map(), records: 0 };
      const staged: StagedFile[] = await flushBatch(c, storage.stagingDir, engine.batches);
      const superseded = [...batch.replacing.values()];
      const retired: string[] = [];
      for (const f of await filesHoldingSources(c, superseded)) {
        const rewritten = await rewriteFiles(
          c,
          storage.stagingDir,
          f,
          [await storage.readableFile(f.path)],
          superseded,
        );
        if (rewritten) staged.push(rewritten);
        retired.push(f.path);
        touched.add(key(f));
      }
      const flowsStaged = staged.length;
      const changedSources = [...batch.results.map((r) => r.outcome.sourceId), ...superseded];
      if (opts.derive !== false) {
        // With one DuckDB thread per statement too: 400k records, default ingest, 2 rounds interleaved on the shared
        // 2-core machine, 11.6 -> 9.6 CPU s and 25.6 -> 18.4 s wall (its statements run one at a time).
        const derived = await deriveForCommit(engine.instance, c, storage, { staged, retired, changedSources });
        staged.push(...derived.added);
        retired.push(...derived.retired);
      } else {
        retired.push(...(await staleDerivedFiles(c, { staged, retired, changedSources })));
      }
      const plan: CommitPlan = {
        commitId: nextCommit++,
        kind: 'ingest',
        sources: batch.results.map((r) => r.outcome),
        superseded,
        rejects: batch.results.flatMap((r) => r.rejects.map((x) => ({ ...x, sourceId: r.outcome.sourceId }))),
        added: staged,
        retired,
      };
      await commit(c, storage, plan, hook);
      const partitions = new Map<string, PartitionKey>();
      const flowFiles = staged.slice(0, flowsStaged);
      for (const f of flowFiles) partitions.set(key(f), f);
      for (const p of partitions.keys()) touched.add(p);
      totals.files += flowFiles.length;
      totals.bytes += flowFiles.reduce((a, f) => a + f.bytes, 0);
      for (const step of opts.postCommit ?? []) await step({ partitions: [...partitions.values()], storage });
      log(`committed ${batch.records} records from ${batch.results.length} object(s) into ${flowFiles.length} file(s)`);
    };

    const free: DuckDBConnection[] = [...engine.loaders];
    const inflight = new Set<Promise<void>>();
    /** Source id -> the source id of the loaded older version it replaces. */
    const replacingOf = new Map<number, number>();
    const record = (result: ObjectResult) => {
      const o = result.outcome;
      const replacing = replacingOf.get(o.sourceId);
      replacingOf.delete(o.sourceId);
      totals.read += o.size;
      if (o.state === 'loaded') {
        totals.loaded++;
        totals.records += o.records;
        totals.rejects += o.rejects;
        rejectsNotKept += o.rejects - result.rejects.length;
        pending.records += o.records;
        if (replacing !== undefined) {
          pending.replacing.set(o.uri, replacing);
          totals.replaced++;
        }
      } else if (o.state === 'skipped') {
        totals.notFlowLogs++;
        notFlowLogs.push({ uri: o.uri, reason: o.error ?? 'not a flow log' });
        // Its content replaced a loaded flow log: the old rows go, as for any changed object.
        if (replacing !== undefined) pending.replacing.set(o.uri, replacing);
        log(`skipped (not read again until it changes): ${o.uri}: ${o.error}`);
      } else {
        totals.failed++;
        failures.push({ uri: o.uri, error: o.error ?? 'failed' });
        log(`failed (will retry next run): ${o.error}`);
      }
      pending.results.push(result);
      opts.onProgress?.({
        objectsDone: totals.loaded + totals.notFlowLogs + totals.failed,
        records: totals.records,
        bytesRead: totals.read,
        current: o.uri,
      });
    };

    /** Loads prepared objects on a free loader: a group of plain text objects of one layout, or one object alone. */
    const dispatch = async (job: readonly PreparedObject[]) => {
      while (free.length === 0) await Promise.race(inflight);
      if (pending.records >= batchRecords) {
        await Promise.all(inflight);
        await flush();
      }
      const conn = free.pop()!;
      const text = job.filter((p): p is PreparedText => p.kind === 'text');
      const work =
        text.length === job.length
          ? loadPreparedGroup(conn, text, engine.batches)
          : Promise.all(job.map((p) => loadPrepared(conn, p, engine.batches)));
      const p: Promise<void> = work.then((results) => {
        free.push(conn);
        inflight.delete(p);
        if (job.length > 1) log(`loaded ${job.length} objects of one layout with one statement`);
        for (const r of results) record(r);
      });
      inflight.add(p);
    };

    // Plain text objects wait in a group per layout until it holds enough lines (never more than a batch) or objects.
    const groups = new Map<string, { members: PreparedText[]; lines: number }>();
    const groupLines = Math.min(GROUP_MAX_LINES, batchRecords);
    let waiting = 0;
    const closeGroup = async (key: string) => {
      const g = groups.get(key)!;
      groups.delete(key);
      waiting -= g.members.length;
      await dispatch(g.members);
    };
    const take = async (p: PreparedObject) => {
      if (p.kind === 'done') return record(p.result);
      if (p.kind !== 'text' || p.groupKey === null) return dispatch([p]);
      const lines = p.lines ?? 0;
      // A group goes before an object would take it past the line bound; an object larger than the bound goes alone.
      const current = groups.get(p.groupKey);
      if (current !== undefined && current.lines + lines > groupLines) await closeGroup(p.groupKey);
      const g = groups.get(p.groupKey) ?? { members: [], lines: 0 };
      groups.set(p.groupKey, g);
      g.members.push(p);
      g.lines += lines;
      waiting++;
      if (g.lines >= groupLines || g.members.length >= GROUP_MAX_OBJECTS) await closeGroup(p.groupKey);
      else if (waiting > GROUP_MAX_OBJECTS) {
        // Many layouts at once: the largest group goes, so waiting objects (and their downloads) stay bounded.
        const largest = [...groups].reduce((a, b) => (b[1].members.length > a[1].members.length ? b : a));
        await closeGroup(largest[0]);
      }
    };

    const backlog = await listBacklog(c, opts.sources, { ...opts, log });
    totals.listed = backlog.listed;
    totals.skipped = backlog.skipped;
    // Objects are prepared (downloaded, sniffed, scanned) PREPARE_AHEAD at a time while the loaders read earlier groups.
    const ahead: Promise<PreparedObject>[] = [];
    for (const { obj, replaces } of backlogOrder(backlog.pending)) {
      const sourceId = nextSource++;
      if (replaces !== undefined) replacingOf.set(sourceId, replaces);
      ahead.push(prepareObject(obj, sourceId, storage.stagingDir));
      while (ahead.length >= PREPARE_AHEAD) await take(await ahead.shift()!);
    }
    while (ahead.length > 0) await take(await ahead.shift()!);
    for (const key of [...groups.keys()]) await closeGroup(key);
    await Promise.all(inflight);
    await flush();

    const elapsedMs = Date.now() - started;
    const seenRecords = totals.records + totals.rejects;
    return {
      warehouse: storage.location,
      objects: {
        listed: totals.listed,
        loaded: totals.loaded,
        skipped: totals.skipped,
        replaced: totals.replaced,
        notFlowLogs: totals.notFlowLogs,
        failed: totals.failed,
      },
      records: totals.records,
      rejects: totals.rejects,
      rejectsNotKept,
      rejectRatio: seenRecords === 0 ? 0 : totals.rejects / seenRecords,
      partitionsTouched: touched.size,
      filesWritten: totals.files,
      bytesWritten: totals.bytes,
      bytesRead: totals.read,
      elapsedMs,
      recordsPerSecond: elapsedMs > 0 ? Math.round((totals.records * 1000) / elapsedMs) : 0,
      failures,
      notFlowLogs,
      recovery,
    };
  } finally {
    engine.close();
  }
}
