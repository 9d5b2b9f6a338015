/**
 * One input object (a local file or an S3 object), as the ingester sees it. Local and S3 sources both produce these;
 * the ledger identifies an object by `uri` and detects a change by `version` (S3 ETag, or local size+mtime).
 */
import type { Readable } from 'node:stream';

export interface SourceObject {
  /** Stable identity: an absolute local path or `s3://bucket/key`. */
  readonly uri: string;
  /** The key (or path relative to the source root), which carries AWS's layout: account, region, date. */
  readonly key: string;
  readonly size: number;
  /** Changes whenever the content changes: the S3 ETag, or `<size>-<mtimeMs>` for local files. */
  readonly version: string;
  /** A fresh stream of the raw bytes (still gzip-compressed if the object is). */
  open(): Promise<Readable>;
}
