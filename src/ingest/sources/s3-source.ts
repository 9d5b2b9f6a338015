/**
 * An `s3://bucket/prefix` source: every object under the prefix, listed page by page (ListObjectsV2, 1,000 keys a
 * page) and opened as a stream, so neither the listing nor an object is ever held in memory whole.
 */
import type { Readable } from 'node:stream';
import { GetObjectCommand, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import { createS3Client, parseS3Uri, type S3ClientOptions } from '../s3-client.ts';
import type { SourceObject } from './source-object.ts';

/** Options of an S3 source: where S3 is, or a ready client (shared with the warehouse, or a test's). */
export interface S3SourceOptions extends S3ClientOptions {
  readonly client?: S3Client;
  /** Keys per ListObjectsV2 page (default and S3 maximum 1,000); smaller only to exercise paging. */
  readonly pageSize?: number;
}

/** S3 wraps ETags in double quotes; the ledger stores the bare value. */
function bareEtag(etag: string | undefined): string {
  return (etag ?? '').replace(/^"|"$/g, '');
}

/**
 * A prefix names a folder: `s3://b/logs` holds `logs/x` but not `logs2/x`. A URI that names one object exactly is
 * that object alone.
 */
function underPrefix(key: string, prefix: string): boolean {
  return prefix === '' || prefix.endsWith('/') || key === prefix || key.startsWith(`${prefix}/`);
}

/** Every object under `uri` (`s3://bucket/prefix`), in key order; version = ETag, open() streams GetObject. */
export async function* listS3Objects(uri: string, opts: S3SourceOptions = {}): AsyncIterable<SourceObject> {
  const { bucket, prefix } = parseS3Uri(uri);
  const client = opts.client ?? createS3Client(opts);
  const pages = paginateListObjectsV2(
    { client, pageSize: opts.pageSize ?? 1000 },
    // Full-prefix listing without Delimiter: AWS's layouts nest folders 6-8 deep and every level would cost a call.
    { Bucket: bucket, Prefix: prefix },
  );
  try {
    for await (const page of pages) {
      for (const item of page.Contents ?? []) {
        const key = item.Key;
        // Zero-byte keys ending in `/` are folder markers made by consoles and tools, not objects.
        if (key === undefined || key.endsWith('/') || !underPrefix(key, prefix)) continue;
        const version = bareEtag(item.ETag);
        yield {
          uri: `s3://${bucket}/${key}`,
          key,
          size: item.Size ?? 0,
          version,
          open: () => openS3Object(client, bucket, key, version),
        };
      }
    }
  } catch (err) {
    throw new Error(`cannot list ${uri}: ${describeS3Error(err)}`, { cause: err });
  } finally {
    if (opts.client === undefined) client.destroy();
  }
}

/**
 * Stream one object, pinned to the listed ETag: if the object is replaced between listing and reading, the read
 * fails (and the next run picks up the new version) instead of recording new bytes under the old version. AWS honours
 * `IfMatch`; some S3-compatible servers ignore it on GET, so the response's ETag is checked too.
 */
export async function openS3Object(client: S3Client, bucket: string, key: string, etag?: string): Promise<Readable> {
  try {
    const out = await client.send(
      new GetObjectCommand({ Bucket: bucket, Key: key, ...(etag ? { IfMatch: `"${etag}"` } : {}) }),
    );
    const body = out.Body as Readable | undefined;
    if (body === undefined) throw new Error('empty response body');
    if (etag && bareEtag(out.ETag) !== etag) {
      body.destroy();
      throw Object.assign(
        new Error(`the object changed since it was listed (ETag ${bareEtag(out.ETag)}, listed ${etag})`),
        { name: 'PreconditionFailed' },
      );
    }
    return body;
  } catch (err) {
    throw new Error(`cannot read s3://${bucket}/${key}: ${describeS3Error(err)}`, { cause: err });
  }
}

/** The SDK's errors carry the S3 code in `name` and often an empty message; say both. */
export function describeS3Error(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const code = err.name && err.name !== 'Error' ? err.name : '';
  const parts = [code, err.message && err.message !== code ? err.message : '', status ? `(HTTP ${status})` : ''];
  return (
    parts
      .filter((p) => p !== '')
      .join(': ')
      .replace(/: \(HTTP/, ' (HTTP') || 'unknown error'
  );
}
