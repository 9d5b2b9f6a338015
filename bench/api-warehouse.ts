/**
 * The warehouse bench:api and bench:sql time their questions on: N generated records over 2 days (seed 7), ingested
 * with derived tables into `.bench/api-<N>/warehouse` once and reused afterwards, or a prepared folder given by
 * `--data DIR` (DIR/warehouse/_flowql/manifest.json).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Manifest } from '../src/store/layout.ts';

/** The folders of the bench warehouse, and how to read or make it. */
export function apiBenchWarehouse(records: number, data?: string) {
  const dir = data ? resolve(data) : join(process.cwd(), '.bench', `api-${records}`);
  const source = join(dir, 'source');
  const root = join(dir, 'warehouse');
  const manifestPath = join(root, '_flowql', 'manifest.json');

  const readManifest = async (): Promise<Manifest | null> =>
    existsSync(manifestPath) ? (JSON.parse(await readFile(manifestPath, 'utf8')) as Manifest) : null;

  /** The warehouse's manifest: reused when it holds `records` records, else generated and ingested first. */
  async function ensureData(): Promise<Manifest> {
    const existing = await readManifest();
    if (existing && existing.ingest.records >= records) {
      console.log(`reusing ${root} (${existing.ingest.records} records, ${existing.files.length} files)`);
      return existing;
    }
    // Generator and ingester load only when data must be made (a reused warehouse needs neither).
    const { generateDataset } = await import('../src/generator/generate-dataset.ts');
    const { createLocalWarehouseStorage } = await import('../src/ingest/local-warehouse-storage.ts');
    const { createProgressReporter } = await import('../src/ingest/ingest-progress.ts');
    const { runIngest } = await import('../src/ingest/ingest-run.ts');
    if (!existsSync(join(source, 'ground-truth.json'))) {
      console.log(`generating ${records} records into ${source} ...`);
      const g = await generateDataset({ outDir: source, records, days: 2, seed: 7 });
      console.log(`generated ${g.records} records in ${g.files} files, ${g.seconds.toFixed(1)} s`);
    }
    console.log(`ingesting into ${root} ...`);
    const progress = createProgressReporter(process.stderr);
    const s = await runIngest({
      sources: [join(source, 'AWSLogs')],
      storage: await createLocalWarehouseStorage(root),
      // As `flowql ingest` does by default: the handshake and edge questions read the derived tables.
      derive: true,
      onProgress: (p) => progress.update(p),
      onLog: (l) => progress.log(l),
    });
    progress.stop();
    console.log(`ingested ${s.records} records (${s.rejects} rejects) in ${(s.elapsedMs / 1000).toFixed(1)} s`);
    return (await readManifest())!;
  }

  return { dir, source, root, readManifest, ensureData };
}
