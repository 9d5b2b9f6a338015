/**
 * Loads source objects into the batch table, in two steps. prepareObject makes an object a local file (S3 objects are
 * downloaded into staging), sniffs its bytes (gzip text, plain text, Parquet; the name can lie, flow-logs.md §5.6)
 * and scans a text object once (text-object-scan.ts: its header and whether it is plain). loadPreparedGroup then
 * reads plain text objects of one layout with one statement, and loadPrepared loads any other object alone (the
 * Parquet loader, or the text loader with its damaged-line checks). An object whose content is not a flow log
 * (NotFlowLogError) comes back `skipped` with the reason; any other failure (I/O, a truncated gzip, S3) comes back
 * `failed`, to be retried. Either way its partial rows are removed.
 */
import { createWriteStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import { parseObjectKey } from '../domain/object-key.ts';
import { build, raw, sql } from '../store/sql.ts';
import type { BatchTables } from './ingest-batch-tables.ts';
import {
  gunzipPrefix,
  isGzip,
  jsonSkipReason,
  NotFlowLogError,
  SNIFF_BYTES,
  sniffInput,
  textLayoutVerdict,
} from './format-sniff.ts';
import { findDamagedLines, hasDamagedBytes } from './damaged-lines.ts';
import { loadTextGroup, loadTextObject } from './ingest-load-text.ts';
import type { LoadResult, RejectRow } from './text-load-result.ts';
import type { HeaderLayout } from './line-parser.ts';
import { loadParquetObject } from './ingest-load-parquet.ts';
import type { SourceContext } from './ingest-projection.ts';
import type { SourceOutcome } from './ledger.ts';
import type { SourceObject } from './sources/source-object.ts';
import { scanTextObject } from './text-object-scan.ts';

/** The outcome of one object, ready for the commit. */
export interface ObjectResult {
  readonly outcome: SourceOutcome;
  readonly rejects: readonly RejectRow[];
  /** Stored columns its rows can have values in (none for a failed or skipped object). */
  readonly columns: readonly string[];
}

/** Rejects kept per object (all are counted); a garbage object must not flood the ledger. */
export const MAX_REJECTS_KEPT = 10_000;

/** Line numbers per DELETE of damaged lines. */
const DAMAGED_LINES_PER_DELETE = 10_000;

async function firstBytes(path: string): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await fh.read(buf, 0, SNIFF_BYTES, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

async function localCopy(
  obj: SourceObject,
  stagingDir: string,
  sourceId: number,
): Promise<{ path: string; temp: boolean }> {
  if (!obj.uri.startsWith('s3://')) return { path: obj.uri, temp: false };
  const path = join(stagingDir, `input-${sourceId}`);
  await pipeline(await obj.open(), createWriteStream(path));
  return { path, temp: true };
}

/**
 * A text object through the DuckDB loader, with the damage scan alongside: the loader keeps a line holding a NUL or
 * invalid UTF-8 as a record with a changed value, so such lines are taken out again and rejected by name. Both run
 * to the end before an error is raised (they share nothing, but the caller cleans the connection after a failure).
 */
async function loadText(
  c: DuckDBConnection,
  path: string,
  gzip: boolean,
  layout: HeaderLayout,
  header: boolean,
  ctx: SourceContext,
  batches: BatchTables,
): Promise<LoadResult> {
  const [loaded, damaged] = await Promise.allSettled([
    loadTextObject(c, path, gzip, layout, header, ctx, batches),
    hasDamagedBytes(path, gzip),
  ]);
  if (loaded.status === 'rejected') throw loaded.reason;
  if (damaged.status === 'rejected') throw damaged.reason;
  if (!damaged.value) return loaded.value;
  const bad = await findDamagedLines(path, gzip, layout.names, MAX_REJECTS_KEPT);
  const lines = new Set(bad.map((r) => r.line));
  let removed = 0;
  // In slices: a file of binary junk has hundreds of thousands of damaged "lines", too many for one IN list.
  for (let at = 0; at < bad.length; at += DAMAGED_LINES_PER_DELETE) {
    const list = raw(
      bad
        .slice(at, at + DAMAGED_LINES_PER_DELETE)
        .map((r) => Math.trunc(r.line))
        .join(', '),
    );
    for (const t of await batches.tables()) {
      const q = build(
        'ingest.drop_damaged',
        sql`DELETE FROM ${raw(t.name)} WHERE source_id = ${ctx.sourceId} AND source_line IN (${list})`,
      );
      removed += Number((await c.run(q.text, [...q.params] as number[])).rowsChanged);
    }
  }
  const rejects = [...loaded.value.rejects.filter((r) => !lines.has(r.line)), ...bad].sort((a, b) => a.line - b.line);
  return { records: loaded.value.records - removed, rejects, columns: loaded.value.columns };
}

/** What every outcome of one object repeats. */
type OutcomeBase = Pick<
  SourceOutcome,
  'sourceId' | 'uri' | 'version' | 'size' | 'keyAccountId' | 'keyRegion' | 'keyDate'
>;

interface PreparedCommon {
  readonly obj: SourceObject;
  readonly ctx: SourceContext;
  readonly base: OutcomeBase;
  readonly local: { readonly path: string; readonly temp: boolean };
  readonly format: string;
}

/** A text object ready to load: its layout, and what its scan found (text-object-scan.ts; the head is not kept). */
export interface PreparedText extends PreparedCommon {
  readonly kind: 'text';
  readonly gzip: boolean;
  readonly layout: HeaderLayout;
  readonly header: boolean;
  /** Its lines; null when the scan stopped early (the object is not plain). */
  readonly lines: number | null;
  /**
   * A plain gzip object's decompressed copy in staging, which the group statement reads instead (text-object-scan.ts);
   * null when there is none. Removed with the local copy once the object is loaded.
   */
  readonly decoded: string | null;
  /**
   * Objects with the same key are read by one statement (loadPreparedGroup): plain objects of one compression (a
   * decompressed copy reads as plain text) and one header (the same field names; none for header-less ones). Null for
   * an object that must be loaded alone.
   */
  readonly groupKey: string | null;
}

/**
 * An object made ready to load: a local file (S3 objects downloaded into staging), what its bytes hold, and for text
 * its layout; or `done` with its outcome when it is already known (not a flow log, or unreadable).
 */
export type PreparedObject =
  | PreparedText
  | (PreparedCommon & { readonly kind: 'parquet' })
  | { readonly kind: 'done'; readonly obj: SourceObject; readonly result: ObjectResult };

function outcomeOf(base: OutcomeBase, format: string | null, uri: string, err: unknown): ObjectResult {
  const message = (err as Error).message.split('\n')[0];
  // A skipped object's reason goes without its uri (the ledger row has it); a failure names it for the log.
  const outcome: SourceOutcome =
    err instanceof NotFlowLogError
      ? { ...base, format, state: 'skipped', records: 0, rejects: 0, error: `not a flow log: ${message}` }
      : { ...base, format, state: 'failed', records: 0, rejects: 0, error: `${uri}: ${message}` };
  return { outcome, rejects: [], columns: [] };
}

function loadedOf(p: PreparedCommon, result: LoadResult): ObjectResult {
  return {
    outcome: {
      ...p.base,
      format: p.format,
      state: 'loaded',
      records: result.records,
      rejects: result.rejects.length,
      error: null,
    },
    rejects: result.rejects.slice(0, MAX_REJECTS_KEPT),
    columns: result.columns,
  };
}

/** Prepares `obj` as source `sourceId`: download, sniff, scan; never throws for a bad object. */
export async function prepareObject(obj: SourceObject, sourceId: number, stagingDir: string): Promise<PreparedObject> {
  const key = parseObjectKey(obj.key);
  const ctx: SourceContext = { sourceId, keyAccountId: key.accountId, keyRegion: key.region, keyDate: key.date };
  const base: OutcomeBase = {
    sourceId,
    uri: obj.uri,
    version: obj.version,
    size: obj.size,
    keyAccountId: key.accountId,
    keyRegion: key.region,
    keyDate: key.date,
  };
  let format: string | null = null;
  let local: { path: string; temp: boolean } | null = null;
  let decoded: string | null = null;
  try {
    local = await localCopy(obj, stagingDir, sourceId);
    const head = await firstBytes(local.path);
    const sniffed = await sniffInput(head);
    format = sniffed;
    if (sniffed === 'parquet') return { kind: 'parquet', obj, ctx, base, local, format };
    if (sniffed === 'gzip-text' || sniffed === 'text') {
      const gzip = sniffed === 'gzip-text';
      const scan = await scanTextObject(local.path, gzip, join(stagingDir, `decoded-${sourceId}.log`));
      decoded = scan.decoded;
      const { layout, header } = textLayoutVerdict(scan.head, scan.complete);
      const read = decoded === null ? sniffed : 'text';
      const groupKey = scan.plain && scan.lines !== null ? `${read}|${header ? layout.names.join(' ') : ''}` : null;
      return {
        kind: 'text',
        obj,
        ctx,
        base,
        local,
        format,
        gzip,
        layout,
        header,
        lines: scan.lines,
        groupKey,
        decoded,
      };
    }
    if (sniffed === 'cloudwatch')
      throw new NotFlowLogError(jsonSkipReason(isGzip(head) ? (gunzipPrefix(head) ?? head) : head));
    if (sniffed === 'unknown')
      throw new NotFlowLogError('binary content that is neither gzip text, plain text nor Parquet');
    throw new Error('corrupt gzip stream: its first bytes do not inflate');
  } catch (err) {
    if (local?.temp) await rm(local.path, { force: true });
    if (decoded !== null) await rm(decoded, { force: true });
    return { kind: 'done', obj, result: outcomeOf(base, format, obj.uri, err) };
  }
}

/** Removes a loaded object's files in staging: its download (S3) and its decompressed copy. */
async function releaseLocal(p: PreparedText | (PreparedCommon & { readonly kind: 'parquet' })): Promise<void> {
  if (p.local.temp) await rm(p.local.path, { force: true });
  if (p.kind === 'text' && p.decoded !== null) await rm(p.decoded, { force: true });
}

/** Removes every row of `sourceId` from the batch (a failed object's partial rows). */
async function dropRows(c: DuckDBConnection, batches: BatchTables, sourceId: number): Promise<void> {
  for (const t of await batches.tables()) {
    const q = build('ingest.drop_partial', sql`DELETE FROM ${raw(t.name)} WHERE source_id = ${sourceId}`);
    await c.run(q.text, [...q.params] as number[]).catch(() => {});
  }
}

/** A header-less object of which no line is a record was a guess that did not hold: not a flow log. */
function checkHeaderless(p: PreparedText, result: LoadResult): void {
  if (result.records === 0 && !p.header) {
    throw new NotFlowLogError(
      `no header, and none of its ${result.rejects.length} lines is a record of the default format`,
    );
  }
}

/** Loads one prepared object alone through connection `c`; never throws for a bad object. Removes its local copy. */
export async function loadPrepared(
  c: DuckDBConnection,
  p: PreparedObject,
  batches: BatchTables,
): Promise<ObjectResult> {
  if (p.kind === 'done') return p.result;
  try {
    if (p.kind === 'parquet') return loadedOf(p, await loadParquetObject(c, p.local.path, p.ctx, batches));
    const result = await loadText(c, p.local.path, p.gzip, p.layout, p.header, p.ctx, batches);
    checkHeaderless(p, result);
    return loadedOf(p, result);
  } catch (err) {
    await dropRows(c, batches, p.ctx.sourceId);
    return outcomeOf(p.base, p.format, p.obj.uri, err);
  } finally {
    await releaseLocal(p);
  }
}

/**
 * Loads prepared text objects of one group key with one statement (ingest-load-text.ts loadTextGroup); an object the
 * statement could not take is loaded alone. Never throws for a bad object; removes their local copies.
 */
export async function loadPreparedGroup(
  c: DuckDBConnection,
  group: readonly PreparedText[],
  batches: BatchTables,
): Promise<ObjectResult[]> {
  // A plain object alone (a large one, or the only one of its layout) takes the group path too: its scan already
  // counted its lines, so it needs none of the one-object path's own passes over its bytes.
  if (group.length === 1 && group[0]!.groupKey === null) return [await loadPrepared(c, group[0]!, batches)];
  const { layout, header } = group[0]!;
  // One group key, one compression: every member has a decompressed copy, or none has (text-object-scan.ts).
  const gzip = group[0]!.decoded === null && group[0]!.gzip;
  let results: (LoadResult | null)[];
  try {
    const members = group.map((p) => ({ path: p.decoded ?? p.local.path, ctx: p.ctx, lines: p.lines ?? 0 }));
    results = await loadTextGroup(c, members, gzip, layout, header, batches);
  } catch {
    for (const p of group) await dropRows(c, batches, p.ctx.sourceId);
    results = group.map(() => null);
  }
  const out: ObjectResult[] = [];
  for (const [i, p] of group.entries()) {
    const result = results[i];
    if (result === null || result === undefined) {
      out.push(await loadPrepared(c, p, batches));
      continue;
    }
    try {
      checkHeaderless(p, result);
      out.push(loadedOf(p, result));
    } catch (err) {
      await dropRows(c, batches, p.ctx.sourceId);
      out.push(outcomeOf(p.base, p.format, p.obj.uri, err));
    } finally {
      await releaseLocal(p);
    }
  }
  return out;
}

/** Loads `obj` as source `sourceId` through connection `c`, alone; never throws for a bad object. */
export async function loadObject(
  c: DuckDBConnection,
  obj: SourceObject,
  sourceId: number,
  stagingDir: string,
  batches: BatchTables,
): Promise<ObjectResult> {
  return loadPrepared(c, await prepareObject(obj, sourceId, stagingDir), batches);
}
