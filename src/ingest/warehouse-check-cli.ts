/**
 * The body of `flowql check` (loaded lazily by src/cli/check-command.ts): prints the report and returns the exit code.
 *
 * Exit codes (CHECK_EXIT_CODES): 0 the warehouse is healthy (after --repair: everything found was repaired; objects
 * marked for reload come back with the next `flowql ingest` of their sources); 1 the check could not run (no manifest,
 * no ledger for --repair, the ledger busy with an ingest, compact or derive, a storage error); 2 problems found (run
 * again with --repair); 3 --repair left problems it could not fix (listed).
 */
import { openExistingStorage } from './ingest-cli.ts';
import { isHealthy, runCheck, runRepair, type CheckReport } from './warehouse-check.ts';

/** `flowql check`'s exit codes (see the top of this file); --help and README list them. */
export const CHECK_EXIT_CODES = { healthy: 0, failed: 1, problems: 2, unrepaired: 3 } as const;

/** Options of `flowql check` after commander. */
export interface CheckCliOptions {
  readonly data: string;
  readonly repair?: boolean;
  readonly json?: boolean;
  readonly s3Endpoint?: string;
  readonly s3ForcePathStyle?: boolean;
  readonly retireGrace?: number;
}

const LIST_AT_MOST = 20;

function list(title: string, items: readonly string[]): string {
  if (items.length === 0) return '';
  const shown = items
    .slice(0, LIST_AT_MOST)
    .map((i) => `  ${i}\n`)
    .join('');
  const more = items.length > LIST_AT_MOST ? `  ... and ${items.length - LIST_AT_MOST} more (--json lists all)\n` : '';
  return `${title} (${items.length}):\n${shown}${more}`;
}

/** The report as text: a summary line, then each kind of problem with the files or objects concerned. */
export function formatCheckReport(r: CheckReport): string {
  const waiting = r.objectsMissingRows.filter((o) => o.markedForReload);
  const missing = r.objectsMissingRows.filter((o) => !o.markedForReload);
  return (
    `warehouse    ${r.location}\n` +
    `manifest     generation ${r.generation}, ${r.filesChecked} files checked${r.ledger ? '' : ' (no ledger: manifest and files only)'}\n` +
    `status       ${isHealthy(r) ? 'healthy' : 'DAMAGED'}\n` +
    list(
      'damaged files',
      r.damaged.map((d) => `${d.path} (partition ${d.partition}): ${d.problem}, ${d.detail}`),
    ) +
    list('orphan files (in neither the manifest nor the ledger)', r.orphans) +
    list('ledger files missing from the manifest', r.notInManifest) +
    list('manifest files the ledger does not hold', r.notInLedger) +
    list(
      'objects with records missing',
      missing.map((o) => `${o.uri}: ${o.visible} of ${o.records} records visible`),
    ) +
    list(
      'objects marked for reload (run flowql ingest over their sources)',
      waiting.map((o) => `${o.uri}: ${o.visible} of ${o.records} records visible`),
    )
  );
}

/** Runs `flowql check`; returns the exit code. */
export async function checkCli(opts: CheckCliOptions): Promise<number> {
  const { storage, close } = await openExistingStorage(opts.data, opts);
  try {
    if (!opts.repair) {
      const report = await runCheck(storage);
      process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : formatCheckReport(report));
      if (isHealthy(report)) return CHECK_EXIT_CODES.healthy;
      if (!opts.json)
        process.stdout.write(`run flowql check --repair --data ${opts.data} to repair what can be repaired\n`);
      return CHECK_EXIT_CODES.problems;
    }
    const repaired = await runRepair(storage, (line) => process.stderr.write(`check: ${line}\n`));
    process.stdout.write(
      opts.json
        ? `${JSON.stringify(repaired)}\n`
        : `repair       ${repaired.filesRemoved} file(s) removed from the manifest, ${repaired.objectsMarkedForReload} object(s) marked for reload, ` +
            `${repaired.partitionsRederived} partition(s) re-derived\n` +
            formatCheckReport(repaired.after),
    );
    return isHealthy(repaired.after) ? CHECK_EXIT_CODES.healthy : CHECK_EXIT_CODES.unrepaired;
  } finally {
    await close();
  }
}
