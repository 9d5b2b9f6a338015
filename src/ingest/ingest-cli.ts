/**
 * The body of `flowql ingest` and `flowql compact` (loaded lazily by src/cli/*-command.ts): opens the warehouse
 * storage, runs, prints the summary and returns the exit code.
 *
 * Exit codes (INGEST_EXIT_CODES): 0 done (objects that are not flow logs are skipped, not failures); 1 the run could
 * not start or stopped (the ledger is busy: another ingest, compact or derive holds it; the warehouse or a listing
 * failed); 2 rejected lines above --max-reject-ratio (default 0.01: 1 line in 100 means the format or the producer is
 * wrong, not noise); 3 some objects could not be read (they stay pending and are retried next run); 4 a source does
 * not exist or cannot be listed (checked before anything is written).
 */
import { notAWarehouseReason } from '../store/warehouse-presence.ts';
import { COMMIT_STAGES, type CommitStage } from './ingest-commit.ts';
import { createLocalWarehouseStorage } from './local-warehouse-storage.ts';
import type { RecentListing } from './sources/recent-listing.ts';
import { createProgressReporter, formatSummary } from './ingest-progress.ts';
import { runIngest } from './ingest-run.ts';
import { checkSourceExists, MissingSourceError } from './sources/source-list.ts';
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
  /** --watch: the listing state kept across runs (IngestOptions.listing). */
  readonly listing?: RecentListing;
}

/** Opens `--data` (a folder, or `s3://bucket/prefix`); returns the storage and how to release it. */
export async function openStorage(
  data: string,
  opts: { s3Endpoint?: string; s3ForcePathStyle?: boolean; retireGrace?: number },
) {
  const grace = opts.retireGrace === undefined ? {} : { retireGraceMs: Math.round(opts.retireGrace * 1000) };
  if (data.startsWith('s3://')) {
    const { createS3WarehouseStorage } = await import('./s3-warehouse-storage.ts');
    const s3 = await createS3WarehouseStorage(data, {
      endpoint: opts.s3Endpoint,
      forcePathStyle: opts.s3ForcePathStyle,
      ...grace,
    });
    return { storage: s3 as WarehouseStorage, close: () => s3.close() };
  }
  return { storage: await createLocalWarehouseStorage(data, grace), close: async () => {} };
}

/**
 * Opens the warehouse of `flowql compact`, `derive` and `check`, which work on what an ingest made: a local `--data`
 * without `_flowql/` (a typo, a missing folder) is refused before anything is written, so it never becomes an empty
 * warehouse that `flowql serve` would then answer zeros from.
 */
export async function openExistingStorage(data: string, opts: Parameters<typeof openStorage>[1]) {
  const reason = data.startsWith('s3://') ? null : await notAWarehouseReason(data);
  if (reason) throw new Error(`${reason}; nothing was written`);
  return openStorage(data, opts);
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

/** `flowql ingest`'s exit codes (see the top of this file); --help, README and docs/configuration.md list them. */
export const INGEST_EXIT_CODES = { ok: 0, failed: 1, rejects: 2, unreadable: 3, missingSource: 4 } as const;

/**
 * Checks every source before anything is written; prints what is missing and returns exit code 4, or 0. Run once
 * before `--watch` starts too: a mistyped path is not retried forever.
 */
export async function checkSources(sources: readonly string[], opts: IngestCliOptions): Promise<number> {
  const missing: string[] = [];
  for (const source of sources) {
    try {
      await checkSourceExists(source, opts);
    } catch (err) {
      if (!(err instanceof MissingSourceError)) throw err;
      missing.push(err.message);
    }
  }
  if (missing.length === 0) return INGEST_EXIT_CODES.ok;
  for (const m of missing) process.stderr.write(`flowql ingest: ${m}\n`);
  process.stderr.write(`flowql ingest: nothing was written to ${opts.data}\n`);
  return INGEST_EXIT_CODES.missingSource;
}

/** Runs `flowql ingest`; returns the exit code. */
export async function ingestCli(sources: readonly string[], opts: IngestCliOptions): Promise<number> {
  const stageHook = pauseHook(opts.debugPauseAfterStage);
  const refused = await checkSources(sources, opts);
  if (refused !== INGEST_EXIT_CODES.ok) return refused;
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
      listing: opts.listing,
    });
    progress.stop();
    process.stdout.write(opts.json ? `${JSON.stringify(summary)}\n` : formatSummary(summary));
    if (summary.rejectRatio > opts.maxRejectRatio) {
      process.stderr.write(
        `flowql ingest: ${summary.rejects} rejected lines (${(summary.rejectRatio * 100).toFixed(3)}%) exceed --max-reject-ratio ${opts.maxRejectRatio}\n`,
      );
      return INGEST_EXIT_CODES.rejects;
    }
    return summary.objects.failed > 0 ? INGEST_EXIT_CODES.unreadable : INGEST_EXIT_CODES.ok;
  } finally {
    progress.stop();
    await close();
  }
}
