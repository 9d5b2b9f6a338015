/**
 * Loads one source object into the batch table: makes it a local file (S3 objects are downloaded into staging),
 * sniffs its bytes (gzip text, plain text, Parquet; the name can lie, flow-logs.md §5.6) and hands it to the text or
 * Parquet loader. Any failure is returned as an error message naming the object; its partial rows are removed.
 */
import { createWriteStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import { DEFAULT_FORMAT_STRING } from '../domain/fields.ts';
import { parseObjectKey } from '../domain/object-key.ts';
import { build, raw, sql } from '../store/sql.ts';
import type { BatchTables } from './ingest-batch-tables.ts';
import { SNIFF_BYTES, sniffInput } from './format-sniff.ts';
import { layoutFromFirstLine, loadTextObject, readFirstLine, type RejectRow } from './ingest-load-text.ts';
import { loadParquetObject } from './ingest-load-parquet.ts';
import type { SourceContext } from './ingest-projection.ts';
import type { SourceOutcome } from './ledger.ts';
import type { SourceObject } from './sources/source-object.ts';

/** The outcome of one object, ready for the commit. */
export interface ObjectResult {
  readonly outcome: SourceOutcome;
  readonly rejects: readonly RejectRow[];
  /** Stored columns its rows can have values in (none for a failed object). */
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

async function localCopy(obj: SourceObject, stagingDir: string, sourceId: number): Promise<{ path: string; temp: boolean }> {
  if (!obj.uri.startsWith('s3://')) return { path: obj.uri, temp: false };
  const path = join(stagingDir, `input-${sourceId}`);
  await pipeline(await obj.open(), createWriteStream(path));
  return { path, temp: true };
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
    const sniffed = await sniffInput(await firstBytes(local.path));
    format = sniffed;
    let result;
    if (sniffed === 'parquet') result = await loadParquetObject(c, local.path, ctx, batches);
    else if (sniffed === 'gzip-text' || sniffed === 'text') {
      const gzip = sniffed === 'gzip-text';
      const first = await readFirstLine(local.path, gzip);
      if (first === null) throw new Error('empty object (no header, no records)');
      const { layout, header } = layoutFromFirstLine(first, DEFAULT_FORMAT_STRING);
      result = await loadTextObject(c, local.path, gzip, layout, header, ctx, batches);
      if (result.records === 0 && !header) throw new Error(`not a flow log: first line '${first.slice(0, 60)}' is neither a header nor a record`);
    } else if (sniffed === 'cloudwatch') throw new Error('a CloudWatch Logs payload, not an S3 flow-log object');
    else throw new Error('not a flow log: neither gzip text, plain text nor Parquet');
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
    const error = `${obj.uri}: ${(err as Error).message.split('\n')[0]}`;
    return { outcome: { ...base, format, state: 'failed', records: 0, rejects: 0, error }, rejects: [], columns: [] };
  } finally {
    if (local?.temp) await rm(local.path, { force: true });
  }
}
