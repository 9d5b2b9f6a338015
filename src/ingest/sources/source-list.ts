/** Lists the objects of a SOURCE argument: `s3://bucket/prefix` goes to the S3 source, anything else is local. */
import { listLocalObjects } from './local-source.ts';
import type { SourceObject } from './source-object.ts';

/** S3 connection options passed through from the CLI. */
export interface SourceListOptions {
  readonly s3Endpoint?: string;
  readonly s3ForcePathStyle?: boolean;
}

/** The objects of one source URI or path. */
export async function* listSourceObjects(uri: string, opts: SourceListOptions = {}): AsyncIterable<SourceObject> {
  if (uri.startsWith('s3://')) {
    const { listS3Objects } = await import('./s3-source.ts');
    yield* listS3Objects(uri, { endpoint: opts.s3Endpoint, forcePathStyle: opts.s3ForcePathStyle });
  } else {
    yield* listLocalObjects(uri);
  }
}

/** A SOURCE argument that names nothing: a missing local path, or an S3 prefix that cannot be listed. */
export class MissingSourceError extends Error {
  override readonly name = 'MissingSourceError';
}

/**
 * Checks that a source exists before anything is written (a typo must not create a warehouse): a local path must
 * exist; an S3 prefix must be listable (one page of at most one key; an empty prefix is fine, objects may come later).
 */
export async function checkSourceExists(uri: string, opts: SourceListOptions = {}): Promise<void> {
  try {
    if (uri.startsWith('s3://')) {
      const { listS3Objects } = await import('./s3-source.ts');
      const objects = listS3Objects(uri, {
        endpoint: opts.s3Endpoint,
        forcePathStyle: opts.s3ForcePathStyle,
        pageSize: 1,
      });
      for await (const _first of objects) break;
    } else {
      const objects = listLocalObjects(uri)[Symbol.asyncIterator]();
      await objects.next();
      await objects.return?.();
    }
  } catch (err) {
    throw new MissingSourceError((err as Error).message, { cause: err });
  }
}
