/** The body of `flowql compact` (loaded lazily by src/cli/compact-command.ts). */
import { openExistingStorage, pauseHook } from './ingest-cli.ts';
import { runCompact } from './ingest-compact.ts';

/** Options of `flowql compact` after commander. */
export interface CompactCliOptions {
  readonly data: string;
  readonly json?: boolean;
  readonly s3Endpoint?: string;
  readonly s3ForcePathStyle?: boolean;
  /** --memory-limit: DuckDB's memory budget (ingest-memory.ts). */
  readonly memoryLimit?: string;
  readonly debugPauseAfterStage?: string;
  /** --retire-grace: seconds replaced files are kept for readers (src/ingest/retired-files.ts). */
  readonly retireGrace?: number;
}

/** Runs `flowql compact`; returns the exit code. */
export async function compactCli(opts: CompactCliOptions): Promise<number> {
  const stageHook = pauseHook(opts.debugPauseAfterStage);
  const { storage, close } = await openExistingStorage(opts.data, opts);
  try {
    const s = await runCompact({
      storage,
      stageHook,
      memoryLimit: opts.memoryLimit,
      onLog: (l) => process.stderr.write(`compact: ${l}\n`),
    });
    process.stdout.write(
      opts.json
        ? `${JSON.stringify(s)}\n`
        : `partitions   ${s.partitionsCompacted} compacted, ${s.partitionsKept} kept (merging would not make them smaller)\nfiles        ${s.filesBefore} -> ${s.filesAfter}\n` +
            `bytes        ${s.bytesBefore} -> ${s.bytesAfter}\ndaily        ${s.dailyWritten} daily rollup file(s) written (flows_daily, edges_daily, org_edges_daily)\nelapsed      ${(s.elapsedMs / 1000).toFixed(1)} s\n`,
    );
    return 0;
  } finally {
    await close();
  }
}
