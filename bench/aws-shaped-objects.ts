/**
 * Flow-log objects shaped the way AWS delivers them to a user, for the ingest benchmark: one flow log (v5 text, one
 * account and region, AWS's default S3 key layout) from `flowql generate`'s simulation, re-cut per UTC day into gzip
 * objects of `objectRecords` records each (AWS's 10-minute files hold a few thousand records), plus one large object
 * a day (`LARGE_UNITS` objects' worth: a delivery that caught up after a stall) when the day holds enough records.
 *
 * Why re-cut instead of asking the generator for other file windows: the generator writes 5-minute windows, and the
 * incremental runs compare two day sizes 4x apart with deliveries of the same number of records, which no whole-minute
 * window gives for both. Objects keep AWS's key names (the window stamp of their first record, a derived hash) and are
 * gzipped at level 6 (the generator's level 1 makes objects ~1.3x larger than AWS's).
 *
 * The result is cached in `<dir>/objects.json`; `keep` reuses it. The estate's inventory (describe-* outputs, for
 * `flowql inventory import`) is kept in `<dir>/inventory` (shapedInventoryDir).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync, gzip } from 'node:zlib';
import { generateDataset } from '../src/generator/generate-dataset.ts';
import type { EstateShape } from '../src/generator/topology.ts';

const gzipAsync = promisify(gzip);
/** A large object holds this many regular objects' worth of records, at about 10:00 of each day. */
const LARGE_UNITS = 12;
/** A day gets its large object only when it holds at least this many regular objects' worth. */
const MIN_UNITS_FOR_LARGE = 4 * LARGE_UNITS;
const NEWLINE = 10;
const FILE_NAME = /^(.*_)(\d{8}T\d{4}Z)_[0-9a-f]+\.log\.gz$/;

/** One delivered object. */
export interface ShapedObject {
  readonly path: string;
  readonly records: number;
  readonly bytes: number;
}

/** A generated, re-cut dataset; `objects` are in delivery order (day by day, oldest first). */
export interface ShapedDataset {
  readonly objectsDir: string;
  readonly objects: readonly ShapedObject[];
  readonly records: number;
  readonly bytes: number;
  readonly generatedSeconds: number;
}

/** What to build. */
export interface ShapedDatasetOptions {
  readonly dir: string;
  readonly records: number;
  readonly days: number;
  readonly objectRecords: number;
  readonly keep: boolean;
  readonly log: (line: string) => void;
  /** Which flow logs (default `single-v5`: one flow log; `accounts-v5`: one per VPC of 3 accounts, all v5 text). */
  readonly estate?: EstateShape;
}

async function listGz(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.log.gz'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** The header and the offsets of the following lines of one gunzipped object (which ends with a newline). */
function splitLines(body: Buffer): { header: Buffer; starts: number[] } {
  const headerEnd = body.indexOf(NEWLINE);
  if (headerEnd < 0 || body[body.length - 1] !== NEWLINE)
    throw new Error('aws-shaped-objects: a generated object has no header or does not end with a newline');
  const starts: number[] = [];
  for (let at = headerEnd + 1; at < body.length; at = body.indexOf(NEWLINE, at) + 1) starts.push(at);
  return { header: body.subarray(0, headerEnd + 1), starts };
}

/** Object sizes for a day of `n` records, in units of regular objects: [1, 1, ..., LARGE_UNITS, 1, ...]. */
function dayPlan(n: number, objectRecords: number): number[] {
  const units = Math.max(1, Math.round(n / objectRecords));
  if (units < MIN_UNITS_FOR_LARGE) return Array<number>(units).fill(1);
  const at = Math.floor((units * 5) / 12);
  return [...Array<number>(at).fill(1), LARGE_UNITS, ...Array<number>(units - at - LARGE_UNITS).fill(1)];
}

/** The folder of the estate's inventory files beside a dataset generated into `dir`. */
export const shapedInventoryDir = (dir: string): string => join(dir, 'inventory');

/** Generates (or, with `keep`, reuses) the dataset under `opts.dir`. */
export async function awsShapedDataset(opts: ShapedDatasetOptions): Promise<ShapedDataset> {
  const index = join(opts.dir, 'objects.json');
  if (opts.keep && existsSync(index)) return JSON.parse(await readFile(index, 'utf8')) as ShapedDataset;
  const began = performance.now();
  await rm(opts.dir, { recursive: true, force: true });
  const genDir = join(opts.dir, 'generated');
  const objectsDir = join(opts.dir, 'objects');
  const estate = opts.estate ?? 'single-v5';
  opts.log(`generating ${opts.records} v5 records (${estate}) over ${opts.days} days into ${genDir}`);
  await generateDataset({ outDir: genDir, records: opts.records, days: opts.days, estate });

  const byDay = new Map<string, string[]>();
  for (const f of await listGz(genDir)) byDay.set(dirname(f), [...(byDay.get(dirname(f)) ?? []), f]);
  const objects: ShapedObject[] = [];
  const inFlight = new Set<Promise<void>>();
  for (const [dayDir, files] of byDay) {
    // Pass 1 counts the day's records, so its objects can be cut to even sizes; pass 2 cuts them.
    let n = 0;
    for (const f of files) n += splitLines(gunzipSync(await readFile(f))).starts.length;
    const plan = dayPlan(n, opts.objectRecords);
    const units = plan.reduce((a, b) => a + b, 0);
    let cumulative = 0;
    // bounds[j]: records of the day in objects 0..j (the last is n).
    const bounds = plan.map((u) => Math.floor(((cumulative += u) * n) / units));
    let j = 0;
    let taken = 0;
    let chunks: Buffer[] = [];
    let first: string | null = null;
    let header: Buffer = Buffer.alloc(0);
    const outDir = join(objectsDir, relative(genDir, dayDir));
    await mkdir(outDir, { recursive: true });
    const close = async (): Promise<void> => {
      const [, prefix, stamp] = FILE_NAME.exec(first!) ?? [];
      if (prefix === undefined || stamp === undefined)
        throw new Error(`aws-shaped-objects: unexpected object name ${first}`);
      const hash = createHash('sha1').update(`${dayDir}/${j}`).digest('hex').slice(0, 8);
      const path = join(outDir, `${prefix}${stamp}_${hash}.log.gz`);
      const records = bounds[j]! - (j === 0 ? 0 : bounds[j - 1]!);
      const body = Buffer.concat([header, ...chunks]);
      const slot = objects.push({ path, records, bytes: 0 }) - 1;
      while (inFlight.size >= 2) await Promise.race(inFlight);
      const p: Promise<void> = gzipAsync(body, { level: 6 }).then(async (zipped) => {
        await writeFile(path, zipped);
        objects[slot] = { path, records, bytes: zipped.length };
        inFlight.delete(p);
      });
      inFlight.add(p);
      chunks = [];
      first = null;
      j++;
    };
    for (const f of files) {
      const body = gunzipSync(await readFile(f));
      const lines = splitLines(body);
      header = lines.header;
      let i = 0;
      while (i < lines.starts.length) {
        first ??= basename(f);
        const want = bounds[j]! - taken;
        const end = Math.min(lines.starts.length, i + want);
        chunks.push(body.subarray(lines.starts[i], end < lines.starts.length ? lines.starts[end] : body.length));
        taken += end - i;
        i = end;
        if (taken === bounds[j]) await close();
      }
    }
    if (chunks.length > 0) throw new Error(`aws-shaped-objects: ${dayDir} left records outside its objects`);
  }
  await Promise.all(inFlight);
  await rename(join(genDir, 'inventory'), shapedInventoryDir(opts.dir));
  await rm(genDir, { recursive: true, force: true });
  const dataset: ShapedDataset = {
    objectsDir,
    objects,
    records: objects.reduce((a, o) => a + o.records, 0),
    bytes: objects.reduce((a, o) => a + o.bytes, 0),
    generatedSeconds: (performance.now() - began) / 1000,
  };
  if (dataset.records !== opts.records)
    throw new Error(`aws-shaped-objects: re-cut ${dataset.records} records, generated ${opts.records}`);
  await writeFile(index, JSON.stringify(dataset));
  return dataset;
}
