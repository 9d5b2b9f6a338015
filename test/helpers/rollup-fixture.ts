/**
 * The warehouse the rollup tests (flows-daily, edges-daily) share: the generator's 6000 records over three days
 * (seed 11: several accounts and regions and formats, REJECTs, NODATA records) ingested with derivation, not yet
 * compacted, and the helpers they read it with.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { validateFlowFilter, type FlowFilter } from '../../src/domain/flow-filter.ts';
import { generateDataset } from '../../src/generator/generate-dataset.ts';
import { runIngest } from '../../src/ingest/ingest-run.ts';
import { createLocalWarehouseStorage } from '../../src/ingest/local-warehouse-storage.ts';
import type { WarehouseStorage } from '../../src/ingest/warehouse-storage.ts';
import type { Manifest, ManifestFile } from '../../src/store/layout.ts';

/** The fixture's three days and the day after. */
export const [DAY1, DAY2, DAY3, AFTER] = ['2024-09-05', '2024-09-06', '2024-09-07', '2024-09-08'];

/** A validated filter of `input` over [from, to). */
export const filterOf = (input: Record<string, unknown>, from: string, to: string): FlowFilter =>
  validateFlowFilter({ timeRange: { from, to }, ...input });

/** The committed manifest of the warehouse at `data`. */
export const manifestOf = async (data: string) =>
  JSON.parse(await readFile(join(data, '_flowql/manifest.json'), 'utf8')) as Manifest;

/** Rows of `table` on `date` in `files`. */
export const rowsOf = (files: readonly ManifestFile[], table: string, date: string) =>
  files.filter((f) => f.table === table && f.date === date).reduce((n, f) => n + f.rows, 0);

/** Generates the fixture under a new temp folder (`<root>/gen`) and ingests it into `<root>/data`. */
export async function ingestedRollupFixture(
  prefix: string,
): Promise<{ root: string; data: string; storage: WarehouseStorage }> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  await generateDataset({ outDir: join(root, 'gen'), records: 6000, days: 3, seed: 11, start: DAY1 });
  const data = join(root, 'data');
  const storage = await createLocalWarehouseStorage(data);
  const s = await runIngest({ sources: [join(root, 'gen', 'AWSLogs')], storage, threads: 1 });
  expect([s.rejects, s.objects.failed]).toEqual([0, 0]);
  return { root, data, storage };
}
