/**
 * `flowql compact`: merges the files of each partition that has more than one into one sorted file (the derived
 * tables' files of days no longer receiving data into one file per table and day, derived-compact.ts). Each partition
 * is its own commit through the same protocol as ingest (new file published and old files retired by one manifest
 * swap), so a reader sees either the old files or the merged one, never both and never neither. A merge that would not
 * make the partition smaller (its files are already well compressed, e.g. written by an older flowql in another order
 * or at another level) is thrown away and the old files stay: compaction never grows a partition.
 * Then it writes the daily rollups (flows_daily, edges_daily, org_edges_daily) of each closed, derived day that lacks
 * them (daily-compact.ts), one commit each.
 */
import { rm } from 'node:fs/promises';
import { commit, withRecoveredEngine, type StageHook } from './ingest-commit.ts';
import type { EngineOptions } from './ingest-engine.ts';
import { liveFiles, nextIds } from './ledger.ts';
import { rewriteFiles, type PartitionKey } from './parquet-writer.ts';
import { derivedDayClosed, inHourOrder, mergeDerivedFiles } from './derived-compact.ts';
import { partitionsWantingDaily, writeDailyFile } from './daily-compact.ts';
import type { WarehouseStorage } from './warehouse-storage.ts';
import type { PostCommitStep } from './ingest-run.ts';
import { partitionKey } from '../store/layout.ts';
import { PARQUET_SETTLED_OPTIONS } from '../store/parquet-options.ts';

/** Options of a compaction run. */
export interface CompactOptions extends EngineOptions {
  readonly storage: WarehouseStorage;
  /** Partitions with at least this many files are merged (default 2). */
  readonly minFiles?: number;
  readonly postCommit?: readonly PostCommitStep[];
  readonly onLog?: (line: string) => void;
  readonly stageHook?: StageHook;
}

/** What compaction did. */
export interface CompactSummary {
  readonly partitionsCompacted: number;
  /** Partitions left as they were because their merged file was not smaller than their files. */
  readonly partitionsKept: number;
  readonly filesBefore: number;
  readonly filesAfter: number;
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  readonly rows: number;
  /** Daily rollup files written (one per table and partition-day). */
  readonly dailyWritten: number;
  readonly elapsedMs: number;
}

/** Compacts every partition with `minFiles` or more live files. */
export async function runCompact(opts: CompactOptions): Promise<CompactSummary> {
  const started = Date.now();
  const { storage } = opts;
  return withRecoveredEngine(storage, opts, async (engine) => {
    const c = engine.main;
    // Flows files per partition; derived files per table and partition, of closed days only (derived-compact.ts).
    // Merging changes no record and no derived row, so neither needs re-deriving.
    const now = new Date();
    const files = (await liveFiles(c)).filter((f) => f.table === 'flows' || derivedDayClosed(f.date, now));
    const groups = new Map<string, typeof files>();
    for (const f of files) {
      const k = `${f.table}/${f.accountId}/${f.region}/${f.date}`;
      groups.set(k, [...(groups.get(k) ?? []), f]);
    }
    let { commitId } = await nextIds(c);
    /** One compact commit (a merge, or a daily file): its own manifest swap, then the post-commit steps. */
    const commitCompact = async (
      added: Parameters<typeof commit>[2]['added'],
      retired: readonly string[],
      partition: PartitionKey,
    ) => {
      await commit(
        c,
        storage,
        { commitId: commitId++, kind: 'compact', sources: [], superseded: [], rejects: [], added, retired },
        opts.stageHook ?? (async () => {}),
      );
      for (const step of opts.postCommit ?? []) await step({ partitions: [partition], storage });
    };
    const s = {
      partitions: 0,
      kept: 0,
      filesBefore: files.length,
      filesAfter: files.length,
      bytesBefore: 0,
      bytesAfter: 0,
      rows: 0,
    };
    for (const f of files) s.bytesBefore += f.bytes;
    s.bytesAfter = s.bytesBefore;
    for (const group of groups.values()) {
      if (group.length < (opts.minFiles ?? 2)) continue;
      const derived = group[0]!.table !== 'flows';
      if (derived) group.splice(0, group.length, ...inHourOrder(group));
      const first = group[0]!;
      const label = `${derived ? `${first.table} ` : ''}${first.accountId}/${first.region}/${first.date}`;
      const inputs = [];
      for (const f of group) inputs.push(await storage.readableFile(f.path));
      const merged = derived
        ? await mergeDerivedFiles(c, storage.stagingDir, group, inputs)
        : await rewriteFiles(c, storage.stagingDir, first, inputs, [], PARQUET_SETTLED_OPTIONS);
      const rowsBefore = group.reduce((a, f) => a + f.rows, 0);
      if (!merged || merged.rows !== rowsBefore) {
        throw new Error(`compact ${label}: merged ${merged?.rows ?? 0} rows, expected ${rowsBefore}`);
      }
      const bytesBefore = group.reduce((a, f) => a + f.bytes, 0);
      if (merged.bytes >= bytesBefore) {
        await rm(merged.stagedPath, { force: true });
        s.kept++;
        opts.onLog?.(
          `kept ${label}: ${group.length} files (${bytesBefore} bytes), merged would be ${merged.bytes} bytes`,
        );
        continue;
      }
      await commitCompact(
        [merged],
        group.map((f) => f.path),
        first,
      );
      s.partitions++;
      s.filesAfter -= group.length - 1;
      s.bytesAfter += merged.bytes - bytesBefore;
      s.rows += merged.rows;
      opts.onLog?.(`compacted ${label}: ${group.length} files -> 1 (${merged.rows} rows)`);
    }
    let dailyWritten = 0;
    for (const wanted of partitionsWantingDaily(await liveFiles(c), now)) {
      const inputs = [];
      for (const f of wanted.hourly) inputs.push(await storage.readableFile(f.path));
      const daily = await writeDailyFile(c, storage.stagingDir, wanted, inputs);
      await commitCompact([daily], [], daily);
      dailyWritten++;
      opts.onLog?.(
        `wrote ${wanted.table} ${partitionKey(daily)}: ${daily.rows} rows from ${wanted.hourly.length} hourly file(s)`,
      );
    }
    return {
      dailyWritten,
      partitionsCompacted: s.partitions,
      partitionsKept: s.kept,
      filesBefore: s.filesBefore,
      filesAfter: s.filesAfter,
      bytesBefore: s.bytesBefore,
      bytesAfter: s.bytesAfter,
      rows: s.rows,
      elapsedMs: Date.now() - started,
    };
  });
}
