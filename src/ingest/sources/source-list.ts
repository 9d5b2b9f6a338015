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
