/**
 * `flowql derive`: (re)derives the derived tables (handshakes/, edges/, flows_hourly/) of a warehouse's partitions, in
 * one commit through the ingest protocol, so readers switch from the raw fallback to the derived files atomically.
 *
 * By default it derives the partitions missing a file of any derived table: those of a warehouse written by an older
 * flowql (before flows_hourly existed) or ingested with `--no-derive`. `all` re-derives every partition (after a
 * change to the derivation rules).
 */
import { deriveTables } from '../analytics/derive-tables.ts';
import { wholePartitions, type PartitionKey } from '../analytics/derived-hours.ts';
import { isOrgTable, OPTIONAL_TABLES, ORG_TABLES, partitionKey, TABLES, underivedPartitions } from '../store/layout.ts';
import { commit, withRecoveredEngine, type StageHook } from './ingest-commit.ts';
import type { EngineOptions } from './ingest-engine.ts';
import { liveFiles, nextIds } from './ledger.ts';
import type { WarehouseStorage } from './warehouse-storage.ts';

/** Options of a derive run. */
export interface RederiveOptions extends EngineOptions {
  readonly storage: WarehouseStorage;
  /** Re-derive every partition, not only those missing a derived file. */
  readonly all?: boolean;
  readonly onLog?: (line: string) => void;
  readonly stageHook?: StageHook;
}

/** What a derive run did. */
export interface RederiveSummary {
  /** Flows partitions whose derived files were written (with their neighbouring days, see derive-tables.ts). */
  readonly partitionsDerived: number;
  readonly filesWritten: number;
  readonly filesRetired: number;
  readonly elapsedMs: number;
}

/** Derives the partitions missing a derived file (or every partition with `all`). */
export async function runRederive(opts: RederiveOptions): Promise<RederiveSummary> {
  const started = Date.now();
  const { storage } = opts;
  return withRecoveredEngine(storage, opts, async (engine) => {
    const c = engine.main;
    const live = await liveFiles(c);
    const flows = live.filter((f) => f.table === 'flows');
    const wanted = new Set(opts.all ? flows.map(partitionKey) : underivedPartitions(live));
    const targets = new Map<string, PartitionKey>();
    for (const f of flows) if (wanted.has(partitionKey(f))) targets.set(partitionKey(f), f);
    if (targets.size === 0)
      return { partitionsDerived: 0, filesWritten: 0, filesRetired: 0, elapsedMs: Date.now() - started };
    opts.onLog?.(`deriving ${targets.size} partition(s) and the neighbouring hours their records reach`);
    // Every derived file of a target is replaced: drop them from what deriveTables sees as committed, so each target
    // is derived whole, as a partition never derived.
    // When every target lacks only org files (a warehouse whose second account arrived after the first's days were
    // derived, or derived before org tables existed), the targets keep their own derived files and only the org
    // tables are derived.
    const own = new Set(live.filter((f) => f.table !== 'flows').map((f) => `${f.table}:${partitionKey(f)}`));
    const accountTables = TABLES.filter((t) => t !== 'flows' && !isOrgTable(t) && !OPTIONAL_TABLES.includes(t));
    const orgOnly = !opts.all && [...targets.keys()].every((k) => accountTables.every((t) => own.has(`${t}:${k}`)));
    const targetFiles = orgOnly ? [] : live.filter((f) => f.table !== 'flows' && targets.has(partitionKey(f)));
    const kept = live.filter((f) => !targetFiles.includes(f));
    const result = await deriveTables({
      db: engine.instance,
      root: storage.stagingDir,
      files: kept,
      changes: wholePartitions([...targets.values()]),
      locate: (f) => storage.readableFile(f.path),
      stagingDir: storage.stagingDir,
      ...(orgOnly ? { tables: ORG_TABLES } : {}),
    });
    const added = result.files.map((f) => ({ ...f, stagedPath: f.stagedPath!, sources: [] }));
    const retired = [...targetFiles, ...result.retired].map((f) => f.path);
    const { commitId } = await nextIds(c);
    await commit(
      c,
      storage,
      { commitId, kind: 'derive', sources: [], superseded: [], rejects: [], added, retired },
      opts.stageHook ?? (async () => {}),
    );
    opts.onLog?.(`committed ${added.length} derived file(s), retired ${retired.length}`);
    return {
      partitionsDerived: targets.size,
      filesWritten: added.length,
      filesRetired: retired.length,
      elapsedMs: Date.now() - started,
    };
  });
}
