/**
 * Reference snapshots for fixture warehouses whose manifest a test writes itself: the files are made by the real
 * import (into a scratch warehouse), then copied into `root` and listed in its manifest's `references`.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createLocalWarehouseStorage } from '../../src/ingest/local-warehouse-storage.ts';
import { importReference, readAwsIpRanges, readInventory, readOwnNetworks } from '../../src/ingest/reference-import.ts';
import { warehousePaths, type Manifest } from '../../src/store/layout.ts';

/** The shipped excerpt of AWS's ip-ranges.json and the demo networks file. */
export const SHIPPED_IP_RANGES = join(
  import.meta.dirname,
  '../../src/demo/reference/ip-ranges-2024-05-02-excerpt.json',
);
export const SHIPPED_NETWORKS = join(import.meta.dirname, '../../src/demo/reference/demo-networks.yaml');

/** What addReferenceSnapshots imports: reference files, and inventory snapshots (describe-* files and an as-of). */
export interface ReferenceFiles {
  readonly ipRanges?: string;
  readonly networks?: string;
  readonly inventory?: { readonly paths: readonly string[]; readonly asOf: Date };
}

/**
 * Imports the files into a scratch warehouse and adds their snapshots to the manifest at `root`, in a new
 * generation: a snapshot replaces the one of its kind, but inventory snapshots accumulate as an import's do.
 */
export async function addReferenceSnapshots(
  root: string,
  files: ReferenceFiles = { ipRanges: SHIPPED_IP_RANGES, networks: SHIPPED_NETWORKS },
): Promise<void> {
  const scratch = await mkdtemp(join(tmpdir(), 'flowql-reference-'));
  try {
    const storage = await createLocalWarehouseStorage(scratch);
    if (files.ipRanges) await importReference(await readAwsIpRanges(files.ipRanges), { storage });
    if (files.networks) await importReference(await readOwnNetworks(files.networks), { storage });
    if (files.inventory)
      await importReference(await readInventory(files.inventory.paths, files.inventory.asOf), { storage });
    const made = JSON.parse(await readFile(warehousePaths(scratch).manifest, 'utf8')) as Manifest;
    for (const r of made.references ?? []) {
      await mkdir(dirname(join(root, r.path)), { recursive: true });
      await copyFile(join(scratch, r.path), join(root, r.path));
    }
    const path = warehousePaths(root).manifest;
    const manifest = JSON.parse(await readFile(path, 'utf8')) as Manifest;
    const added = made.references ?? [];
    const kept = (manifest.references ?? []).filter(
      (r) => r.kind === 'inventory' || !added.some((a) => a.kind === r.kind),
    );
    const next: Manifest = { ...manifest, generation: manifest.generation + 1, references: [...kept, ...added] };
    await writeFile(path, JSON.stringify(next));
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
