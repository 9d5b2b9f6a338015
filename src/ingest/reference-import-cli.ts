/**
 * The body of `flowql ip-ranges import`, `flowql networks import` and `flowql inventory import` (loaded lazily by
 * src/cli/reference-command.ts).
 */
import type { ReferenceKind } from '../domain/reference-tables.ts';
import { openStorage } from './ingest-cli.ts';
import { importReference, readAwsIpRanges, readInventory, readOwnNetworks } from './reference-import.ts';

/** Options after commander. */
export interface ReferenceImportCliOptions {
  readonly data: string;
  readonly json?: boolean;
  readonly s3Endpoint?: string;
  readonly s3ForcePathStyle?: boolean;
  readonly retireGrace?: number;
  /** inventory: the time the snapshot names resources from (default: now). */
  readonly asOf?: string;
}

/** Runs one import; returns the exit code (a bad file throws, and the command prints the error and exits 1). */
export async function referenceImportCli(
  kind: ReferenceKind,
  files: readonly string[],
  opts: ReferenceImportCliOptions,
): Promise<number> {
  // Checked before the warehouse is opened: a bad file touches nothing.
  const ref =
    kind === 'inventory'
      ? await readInventory(files, opts.asOf === undefined ? new Date() : new Date(opts.asOf))
      : kind === 'ip_ranges'
        ? await readAwsIpRanges(files[0]!)
        : await readOwnNetworks(files[0]!);
  const { storage, close } = await openStorage(opts.data, opts);
  try {
    const r = await importReference(ref, { storage });
    process.stdout.write(
      opts.json
        ? `${JSON.stringify(r)}\n`
        : `${kind}  ${r.outcome === 'unchanged' ? 'unchanged (this version is already loaded)' : 'imported'}\n` +
            `version   ${r.version}${r.superseded ? ` (replaces ${r.superseded})` : ''}\n` +
            `${kind === 'inventory' ? 'as of    ' : 'created  '} ${r.createdAt}\nrows      ${r.rows}\n`,
    );
    return 0;
  } finally {
    await close();
  }
}
