/** The body of `flowql derive` (loaded lazily by src/cli/derive-command.ts). */
import { openExistingStorage, pauseHook } from './ingest-cli.ts';
import { runRederive } from './ingest-rederive.ts';

/** Options of `flowql derive` after commander. */
export interface DeriveCliOptions {
  readonly data: string;
  readonly all?: boolean;
  readonly json?: boolean;
  readonly s3Endpoint?: string;
  readonly s3ForcePathStyle?: boolean;
  readonly debugPauseAfterStage?: string;
  /** --retire-grace: seconds replaced files are kept for readers (src/ingest/retired-files.ts). */
  readonly retireGrace?: number;
}

/** Runs `flowql derive`; returns the exit code. */
export async function deriveCli(opts: DeriveCliOptions): Promise<number> {
  const stageHook = pauseHook(opts.debugPauseAfterStage);
  const { storage, close } = await openExistingStorage(opts.data, opts);
  try {
    const s = await runRederive({
      storage,
      stageHook,
      ...(opts.all ? { all: true } : {}),
      onLog: (l) => process.stderr.write(`derive: ${l}\n`),
    });
    process.stdout.write(
      opts.json
        ? `${JSON.stringify(s)}\n`
        : `partitions   ${s.partitionsDerived} derived\nfiles        ${s.filesWritten} written, ${s.filesRetired} retired\n` +
            `elapsed      ${(s.elapsedMs / 1000).toFixed(1)} s\n`,
    );
    return 0;
  } finally {
    await close();
  }
}
