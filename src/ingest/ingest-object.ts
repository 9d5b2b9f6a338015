/**
 * Loads one source object into the batch table: makes it a local file (S3 objects are downloaded into staging),
 * sniffs its bytes (gzip text, plain text, Parquet; the name can lie, flow-logs.md §5.6) and hands it to the text or
 * Parquet loader. An object whose content is not a flow log (NotFlowLogError) comes back `skipped` with the reason;
 * any other failure (I/O, a truncated gzip, S3) comes back `failed`, to be retried. Either way its partial rows are
 * removed.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { DuckDBConnection } from '@duckdb/node-api';
import { parseObjectKey } from '../domain/object-key.ts';
import { build, raw, sql } from '../store/sql.ts';
import type { BatchTables } from './ingest-batch-tables.ts';
import { gunzipPrefix, isGzip, jsonSkipReason, NotFlowLogError, SNIFF_BYTES, sniffInput, textLayoutVerdict } from './format-sniff.ts';
import { findDamagedLines, hasDamagedBytes } from './damaged-lines.ts';
import { loadTextObject, type LoadResult, type RejectRow } from './ingest-load-text.ts';
import type { HeaderLayout } from './line-parser.ts';
import { loadParquetObject } from './ingest-load-parquet.ts';
import type { SourceContext } from './ingest-projection.ts';
import type { SourceOutcome } from './ledger.ts';
import type { SourceObject } from './sources/source-object.ts';

/** The outcome of one object, ready for the commit. */
export interface ObjectResult {
  readonly outcome: SourceOutcome;
  readonly rejects: readonly RejectRow[];
  /** Stored columns its rows can have values in (none for a failed or skipped object). */
  readonly columns: readonly string[];
}

/** Rejects kept per object (all are counted); a garbage object must not flood the ledger. */
export const MAX_REJECTS_KEPT = 10_000;

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

/** Decoded text read to decide what a text object is: enough for the verdict's lines, bounded for a line-less file. */
const HEAD_CHARS = 64 * 1024;

/** The start of a (possibly gzip) local text file, and whether it is the whole file. A truncated gzip throws. */
async function readHeadText(path: string, gzip: boolean): Promise<{ text: string; complete: boolean }> {
  const file = createReadStream(path, { highWaterMark: 16 * 1024 });
  const stream = gzip ? file.pipe(createGunzip()) : file;
  let text = '';
  try {
    for await (const chunk of stream) {
      text += (chunk as Buffer).toString('utf8');
      if (text.length >= HEAD_CHARS) return { text: text.slice(0, HEAD_CHARS), complete: false };
    }
  } finally {
    file.destroy();
    stream.destroy();
  }
  return { text, complete: true };
}

async function localCopy(obj: SourceObject, stagingDir: string, sourceId: number): Promise<{ path: string; temp: boolean }> {
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
  const bad = await findDamagedLines(path, gzip, layout.names);
  const lines = new Set(bad.map((r) => r.line));
  let removed = 0;
  const list = raw(bad.map((r) => Math.trunc(r.line)).join(', '));
  for (const t of await batches.tables()) {
    const q = build(
      'ingest.drop_damaged',
      sql`DELETE FROM ${raw(t.name)} WHERE source_id = ${ctx.sourceId} AND source_line IN (${list})`,
    );
    removed += Number((await c.run(q.text, [...q.params] as number[])).rowsChanged);
  }
  const rejects = [...loaded.value.rejects.filter((r) => !lines.has(r.line)), ...bad].sort((a, b) => a.line - b.line);
  return { records: loaded.value.records - removed, rejects, columns: loaded.value.columns };
}

/** Loads `obj` as source `sourceId` through connection `c`; never throws for a bad object. */
export async function loadObject(
  c: DuckDBConnection,
  obj: SourceObject,
  sourceId: number,
  stagingDir: string,
  batches: BatchTables,
): Promise<ObjectResult> {
  const key = parseObjectKey(obj.key);
  const ctx: SourceContext = { sourceId, keyAccountId: key.accountId, keyRegion: key.region, keyDate: key.date };
  const base = {
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
  try {
    local = await localCopy(obj, stagingDir, sourceId);
    const head = await firstBytes(local.path);
    const sniffed = await sniffInput(head);
    format = sniffed;
    let result;
    if (sniffed === 'parquet') result = await loadParquetObject(c, local.path, ctx, batches);
    else if (sniffed === 'gzip-text' || sniffed === 'text') {
      const gzip = sniffed === 'gzip-text';
      const { text, complete } = await readHeadText(local.path, gzip);
      const { layout, header } = textLayoutVerdict(text, complete);
      result = await loadText(c, local.path, gzip, layout, header, ctx, batches);
      if (result.records === 0 && !header) {
        throw new NotFlowLogError(`no header, and none of its ${result.rejects.length} lines is a record of the default format`);
      }
    } else if (sniffed === 'cloudwatch') throw new NotFlowLogError(jsonSkipReason(isGzip(head) ? (gunzipPrefix(head) ?? head) : head));
    else if (sniffed === 'unknown') throw new NotFlowLogError('binary content that is neither gzip text, plain text nor Parquet');
    else throw new Error('corrupt gzip stream: its first bytes do not inflate');
    return {
      outcome: { ...base, format, state: 'loaded', records: result.records, rejects: result.rejects.length, error: null },
      rejects: result.rejects.slice(0, MAX_REJECTS_KEPT),
      columns: result.columns,
    };
  } catch (err) {
    for (const t of await batches.tables()) {
      const q = build('ingest.drop_partial', sql`DELETE FROM ${raw(t.name)} WHERE source_id = ${sourceId}`);
      await c.run(q.text, [...q.params] as number[]).catch(() => {});
    }
    const message = (err as Error).message.split('\n')[0];
    // A skipped object's reason goes without its uri (the ledger row has it); a failure names it for the log.
    const outcome: SourceOutcome =
      err instanceof NotFlowLogError
        ? { ...base, format, state: 'skipped', records: 0, rejects: 0, error: `not a flow log: ${message}` }
        : { ...base, format, state: 'failed', records: 0, rejects: 0, error: `${obj.uri}: ${message}` };
    return { outcome, rejects: [], columns: [] };
  } finally {
    if (local?.temp) await rm(local.path, { force: true });
  }
}
