/**
 * A fixture warehouse with its derived tables: hand-built connection records (analytics-fixture.ts) written as flows
 * files (warehouse-fixture.ts), then derived and swapped into the manifest as an ingest commit would.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { DuckDBInstance } from '@duckdb/node-api';
import { applyDerivedFiles, deriveTables } from '../../src/analytics/derive-tables.ts';
import { wholePartitions } from '../../src/analytics/derived-hours.ts';
import { warehousePaths, type Manifest, type ManifestFile } from '../../src/store/layout.ts';
import type { FixtureRecord } from './analytics-fixture.ts';
import { writeFixtureWarehouse } from './warehouse-fixture.ts';

/** A connection fixture record as a stored flows row (epoch seconds -> start_time/end_time). */
export function storedRecord(r: FixtureRecord) {
  const { start, end, ...rest } = r;
  return { ...rest, start_time: new Date(start * 1000), end_time: end === undefined ? null : new Date(end * 1000) };
}

/** Adds `records` to the warehouse at `root` and derives every hour of the partitions written; the manifest after. */
export async function writeDerivedFixtureWarehouse(
  root: string,
  records: readonly FixtureRecord[],
): Promise<readonly ManifestFile[]> {
  const written = await writeFixtureWarehouse(root, records.map(storedRecord));
  const path = warehousePaths(root).manifest;
  const manifest = JSON.parse(await readFile(path, 'utf8')) as Manifest;
  const db = await DuckDBInstance.create(':memory:');
  const result = await deriveTables({ db, root, files: manifest.files, changes: wholePartitions(written) }).finally(
    () => db.closeSync(),
  );
  const next: Manifest = {
    ...manifest,
    generation: manifest.generation + 1,
    files: applyDerivedFiles(manifest.files, result),
  };
  await writeFile(path, JSON.stringify(next));
  return next.files;
}
