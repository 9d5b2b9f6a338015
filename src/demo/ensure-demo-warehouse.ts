/**
 * `npm start` (`flowql serve --demo`) on a fresh clone: when the warehouse holds no flows yet, generate a demo
 * dataset in AWS's S3 layout (src/generator) into a temporary folder, ingest it like any other source (src/ingest,
 * which also derives the handshakes and edges tables), import the estate's generated inventory so its ends have names,
 * then delete the raw files. A warehouse with data is left as is.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADDRESS_REFERENCE_KINDS } from '../domain/reference-tables.ts';
import { generateDataset } from '../generator/generate-dataset.ts';
import type { InventorySnapshot } from '../generator/inventory-writer.ts';
import { createLocalWarehouseStorage } from '../ingest/local-warehouse-storage.ts';
import { createProgressReporter } from '../ingest/ingest-progress.ts';
import { runIngest } from '../ingest/ingest-run.ts';
import { importReference, readAwsIpRanges, readInventory, readOwnNetworks } from '../ingest/reference-import.ts';
import { warehousePaths, type Manifest } from '../store/layout.ts';

/** Structured logger (pino-compatible subset). */
export interface DemoLogger {
  info(obj: object, msg: string): void;
}

/** Demo size and shape; the defaults make a dataset that generates and ingests in seconds. */
export interface DemoOptions {
  readonly log: DemoLogger;
  /** Records to generate (default 300 000). */
  readonly records?: number;
  /** Days covered, ending yesterday (UTC) so the data looks recent (default 1: ingest time grows with the number of
   *  objects, which grows with days, not records). */
  readonly days?: number;
  readonly seed?: number;
  /** Where progress bars go (default stderr; a bar on a TTY, lines otherwise). */
  readonly progress?: NodeJS.WriteStream;
  /** The clock, for tests. */
  readonly now?: Date;
}

/** Default demo size. */
export const DEMO_DEFAULTS = { records: 300_000, days: 1, seed: 42 } as const;

async function flowFileCount(root: string): Promise<number> {
  try {
    const manifest = JSON.parse(await readFile(warehousePaths(root).manifest, 'utf8')) as Manifest;
    return manifest.files.filter((f) => f.table === 'flows').length;
  } catch {
    return 0; // no manifest yet: nothing committed
  }
}

/** The shipped reference files: a dated excerpt of AWS's ip-ranges.json and a small networks file (see their notes). */
export const DEMO_REFERENCE_FILES = {
  ip_ranges: fileURLToPath(new URL('./reference/ip-ranges-2024-05-02-excerpt.json', import.meta.url)),
  networks: fileURLToPath(new URL('./reference/demo-networks.yaml', import.meta.url)),
} as const;

/**
 * Imports the shipped reference files that the warehouse has no snapshot of, so GraphiQL shows AWS service and
 * network names for the generated addresses. A snapshot already there (a real ip-ranges.json imported later) stays.
 */
export async function ensureDemoReferences(root: string, log: DemoLogger): Promise<void> {
  let loaded: readonly string[] = [];
  try {
    const manifest = JSON.parse(await readFile(warehousePaths(root).manifest, 'utf8')) as Manifest;
    loaded = (manifest.references ?? []).map((r) => r.kind);
  } catch {
    // no manifest yet: import both
  }
  const storage = await createLocalWarehouseStorage(root);
  for (const kind of ADDRESS_REFERENCE_KINDS) {
    if (loaded.includes(kind)) continue;
    const file = DEMO_REFERENCE_FILES[kind];
    const ref = kind === 'ip_ranges' ? await readAwsIpRanges(file) : await readOwnNetworks(file);
    const r = await importReference(ref, { storage });
    log.info({ kind, version: r.version, createdAt: r.createdAt, rows: r.rows }, 'demo: imported reference table');
  }
}

/**
 * Imports the generated estate's inventory as a cron job would have taken it: a snapshot at the window's start, and
 * one when instances were replaced (a terminated instance's address handed to a new one), so the demo's ends and
 * flows show the names of their time. Only into a warehouse without any inventory: a snapshot there (a real estate's,
 * imported later) is the user's, and these would name other instances at other times.
 */
async function ensureDemoInventory(
  root: string,
  snapshots: readonly InventorySnapshot[],
  log: DemoLogger,
): Promise<void> {
  try {
    const manifest = JSON.parse(await readFile(warehousePaths(root).manifest, 'utf8')) as Manifest;
    if ((manifest.references ?? []).some((r) => r.kind === 'inventory')) return;
  } catch {
    // no manifest yet: import it
  }
  const storage = await createLocalWarehouseStorage(root);
  for (const snapshot of snapshots) {
    const r = await importReference(await readInventory(snapshot.paths, snapshot.asOf), { storage });
    log.info(
      { kind: 'inventory', version: r.version, createdAt: r.createdAt, rows: r.rows },
      'demo: imported inventory',
    );
  }
}

/** First day of a `days`-long window ending yesterday, YYYY-MM-DD (UTC). */
export function demoStartDate(now: Date, days: number): string {
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return new Date(midnight - days * 86_400_000).toISOString().slice(0, 10);
}

/** Fills an empty warehouse at `root` with generated demo data; returns whether it did. */
export async function ensureDemoWarehouse(root: string, options: DemoOptions): Promise<boolean> {
  const { log } = options;
  const existing = await flowFileCount(root);
  if (existing > 0) {
    log.info({ root, files: existing }, 'demo: warehouse already holds flows; not generating');
    await ensureDemoReferences(root, log);
    return false;
  }
  const records = options.records ?? DEMO_DEFAULTS.records;
  const days = options.days ?? DEMO_DEFAULTS.days;
  const start = demoStartDate(options.now ?? new Date(), days);
  const source = await mkdtemp(join(tmpdir(), 'flowql-demo-'));
  try {
    log.info({ records, days, start, source }, 'demo: generating flow logs');
    let reported = 0;
    const generated = await generateDataset({
      outDir: source,
      records,
      days,
      start,
      seed: options.seed ?? DEMO_DEFAULTS.seed,
      onProgress: (done, total) => {
        if (done - reported < total / 10 && done < total) return;
        reported = done;
        log.info({ records: done, of: total }, 'demo: generating');
      },
    });
    log.info({ files: generated.files, records: generated.records, seconds: generated.seconds }, 'demo: generated');
    const progress = createProgressReporter(options.progress ?? process.stderr);
    try {
      const summary = await runIngest({
        sources: [join(source, 'AWSLogs')],
        storage: await createLocalWarehouseStorage(root),
        // The demo's example tabs ask for handshakes and edges: without the derived tables they would be paired
        // from raw records on every query.
        derive: true,
        onProgress: (p) => progress.update(p),
        onLog: (line) => progress.log(line),
      });
      progress.stop();
      log.info(
        {
          records: summary.records,
          rejects: summary.rejects,
          partitions: summary.partitionsTouched,
          ms: summary.elapsedMs,
        },
        'demo: ingested',
      );
      if (summary.objects.failed > 0)
        throw new Error(
          `demo: ${summary.objects.failed} generated objects failed to ingest: ${summary.failures[0]?.error}`,
        );
    } finally {
      progress.stop();
    }
    await ensureDemoReferences(root, log);
    await ensureDemoInventory(root, generated.inventorySnapshots, log);
    return true;
  } finally {
    await rm(source, { recursive: true, force: true });
  }
}
