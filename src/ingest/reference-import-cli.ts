/**
 * The body of `flowql ip-ranges import`, `flowql networks import`, `flowql inventory import` and `flowql inventory
 * fetch` (loaded lazily by src/cli/reference-command.ts).
 */
import type { ReferenceKind } from '../domain/reference-tables.ts';
import { openStorage } from './ingest-cli.ts';
import { fetchInventoryDocuments } from './inventory-fetch.ts';
import {
  importReference,
  inventoryFromDocuments,
  readAwsIpRanges,
  readInventory,
  readOwnNetworks,
  type CheckedReference,
} from './reference-import.ts';

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
      ? await readInventory(files, asOfOption(opts))
      : kind === 'ip_ranges'
        ? await readAwsIpRanges(files[0]!)
        : await readOwnNetworks(files[0]!);
  return importChecked(ref, opts);
}

/** Options of `flowql inventory fetch`. */
export interface InventoryFetchCliOptions extends ReferenceImportCliOptions {
  readonly region: string;
  readonly profile?: string;
  readonly ec2Endpoint?: string;
}

/** `flowql inventory fetch`: the EC2 API's answers imported as `inventory import` imports the CLI's files. */
export async function inventoryFetchCli(opts: InventoryFetchCliOptions): Promise<number> {
  const asOf = asOfOption(opts);
  const documents = await fetchInventoryDocuments({
    region: opts.region,
    ...(opts.profile === undefined ? {} : { profile: opts.profile }),
    ...(opts.ec2Endpoint === undefined ? {} : { endpoint: opts.ec2Endpoint }),
  });
  // Checked before the warehouse is opened, as files are.
  return importChecked(inventoryFromDocuments(documents, asOf), opts);
}

/** --as-of, default now: a fetch is a snapshot of the time it ran. */
const asOfOption = (opts: ReferenceImportCliOptions): Date =>
  opts.asOf === undefined ? new Date() : new Date(opts.asOf);

async function importChecked(ref: CheckedReference, opts: ReferenceImportCliOptions): Promise<number> {
  const { storage, close } = await openStorage(opts.data, opts);
  try {
    const r = await importReference(ref, { storage });
    const kind = ref.kind;
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
