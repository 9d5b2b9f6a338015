/**
 * The body of `flowql ingest` and `flowql compact` (loaded lazily by src/cli/*-command.ts): opens the warehouse
 * storage, runs, prints the summary and returns the exit code.
 *
 * Exit codes: 0 done; 2 rejected lines above --max-reject-ratio (default 0.01: 1 line in 100 means the format or
 * the producer is wrong, not noise); 3 some objects could not be read (they stay pending and are retried next run).
 */
import { COMMIT_STAGES, type CommitStage } from './ingest-commit.ts';
import { createLocalWarehouseStorage } from './local-warehouse-storage.ts';
import { createProgressReporter, formatSummary } from './ingest-progress.ts';
import { runIngest } from './ingest-run.ts';
import type { WarehouseStorage } from './warehouse-storage.ts';

/** Options of `flowql ingest` after commander. */
export interface IngestCliOptions {
  readonly data: string;
  readonly json?: boolean;
  readonly maxRejectRatio: number;
  readonly batchRecords?: number;
  readonly threads?: number;
  readonly memoryLimit?: string;
  readonly s3Endpoint?: string;
  readonly s3ForcePathStyle?: boolean;
  readonly debugPauseAfterStage?: string;
  /** --retire-grace: seconds replaced files are kept for readers (src/ingest/retired-files.ts). */
  readonly retireGrace?: number;
  /** false with --no-derive: skip deriving the derived tables (see IngestOptions.derive). */
  readonly derive?: boolean;
}

/** Opens `--data` (a folder, or `s3://bucket/prefix`); returns the storage and how to release it. */
export async function openStorage(data: string, opts: { s3Endpoint?: string; s3ForcePathStyle?: boolean; retireGrace?: number }) {
  const grace = opts.retireGrace === undefined ? {} : { retireGraceMs: Math.round(opts.retireGrace * 1000) };
  if (data.startsWith('s3://')) {
    const { createS3WarehouseStorage } = await import('./s3-warehouse-storage.ts');
    const s3 = await createS3WarehouseStorage(data, { endpoint: opts.s3Endpoint, forcePathStyle: opts.s3ForcePathStyle, ...grace });
    return { storage: s3 as WarehouseStorage, close: () => s3.close() };
  }
  return { storage: await createLocalWarehouseStorage(data, grace), close: async () => {} };
}

/** Internal crash-test hook: print the stage to stderr and hang until killed. */
export function pauseHook(stage: string | undefined): ((s: CommitStage) => Promise<void>) | undefined {
  if (stage === undefined) return undefined;
  if (!(COMMIT_STAGES as readonly string[]).includes(stage)) {
    throw new Error(`--debug-pause-after-stage: expected one of ${COMMIT_STAGES.join(', ')}, found '${stage}'`);
  }
  return async (s) => {
    if (s !== stage) return;
    process.stderr.write(`flowql: debug pause after ${s}\n`);
    await new Promise(() => setInterval(() => {}, 60_000));
  };
}

/** Runs `flowql ingest`; returns the exit code. */
export async function ingestCli(sources: readonly string[], opts: IngestCliOptions): Promise<number> {
  const stageHook = pauseHook(opts.debugPauseAfterStage);
  const { storage, close } = await openStorage(opts.data, opts);
  const progress = createProgressReporter(process.stderr);
  try {
    const summary = await runIngest({
      sources,
      storage,
      batchRecords: opts.batchRecords,
      threads: opts.threads,
      memoryLimit: opts.memoryLimit,
      s3Endpoint: opts.s3Endpoint,
      s3ForcePathStyle: opts.s3ForcePathStyle,
      onProgress: (p) => progress.update(p),
      onLog: (l) => progress.log(l),
      stageHook,
      derive: opts.derive !== false,
    });
    progress.stop();
    process.stdout.write(opts.json ? `${JSON.stringify(summary)}\n` : formatSummary(summary));
    if (summary.rejectRatio > opts.maxRejectRatio) {
      process.stderr.write(
        `flowql ingest: ${summary.rejects} rejected lines (${(summary.rejectRatio * 100).toFixed(3)}%) exceed --max-reject-ratio ${opts.maxRejectRatio}\n`,
      );
      return 2;
    }
    return summary.objects.failed > 0 ? 3 : 0;
  } finally {
    progress.stop();
    await close();
  }
}
