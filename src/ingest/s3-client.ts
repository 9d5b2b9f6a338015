/**
 * The one place an S3 client is built, for sources and for the S3 warehouse alike. Credentials and region come from
 * the AWS SDK's default chain unless given; `endpoint` + path-style addressing let it talk to MinIO or any
 * S3-compatible server.
 */
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { silenceAwsSdkNodeNotice } from '../library-env.ts';

/** How to reach S3: all optional; an absent value falls back to the AWS SDK's default chain. */
export interface S3ClientOptions {
  /** `http://127.0.0.1:9000` for MinIO and friends; absent for AWS itself. */
  readonly endpoint?: string;
  /** Path-style addressing (`host/bucket/key`); defaults to true when an endpoint is given. */
  readonly forcePathStyle?: boolean;
  readonly region?: string;
  /** Explicit credentials (tests, `--s3-*` flags); otherwise the SDK's default credential chain. */
  readonly credentials?: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken?: string;
  };
}

/** The SDK's "Region is missing" names no setting; say which variable to set. */
export class S3RegionMissingError extends Error {
  constructor(cause: unknown) {
    super(
      'S3 needs a region and none is configured: set AWS_REGION (for example AWS_REGION=eu-west-1), or a region in ' +
        'the ~/.aws/config profile named by AWS_PROFILE; with --s3-endpoint (MinIO and other S3-compatible servers) ' +
        'us-east-1 is used when none is set',
      { cause },
    );
  }
}

/** Build an S3 client. */
export function createS3Client(opts: S3ClientOptions = {}): S3Client {
  silenceAwsSdkNodeNotice(); // see src/library-env.ts: the SDK's Node 22 notice on Node 20
  const config: S3ClientConfig = {
    // The SDK's default (WHEN_SUPPORTED) sends streamed uploads with aws-chunked framing and CRC trailers; servers
    // that don't understand it (s3rver, older MinIO) store the framing inside the object, silently. Checksums only
    // when an operation requires them works with AWS and with every S3-compatible server.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 5,
  };
  if (opts.endpoint !== undefined) {
    config.endpoint = opts.endpoint;
    config.forcePathStyle = opts.forcePathStyle ?? true;
    // A custom server rarely cares about the region, but the SDK refuses to sign without one.
    config.region = opts.region ?? 'us-east-1';
  } else {
    if (opts.forcePathStyle !== undefined) config.forcePathStyle = opts.forcePathStyle;
    if (opts.region !== undefined) config.region = opts.region;
  }
  if (opts.credentials !== undefined) config.credentials = { ...opts.credentials };
  const client = new S3Client(config);
  // The region is resolved (environment, profile, EC2 metadata) on the first command; its failure surfaces there.
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (err) {
        throw err instanceof Error && err.message === 'Region is missing' ? new S3RegionMissingError(err) : err;
      }
    },
    { step: 'initialize', name: 'flowqlExplainMissingRegion' },
  );
  return client;
}

/** A parsed `s3://bucket/prefix` URI. */
export interface S3Location {
  readonly bucket: string;
  /** Key prefix without a leading `/`; empty for the whole bucket. */
  readonly prefix: string;
}

/** Parse `s3://bucket[/prefix]`; throws naming the URI and what was expected. */
export function parseS3Uri(uri: string): S3Location {
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(uri);
  const bucket = m?.[1];
  if (bucket === undefined || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new Error(`invalid S3 URI ${JSON.stringify(uri)}: expected s3://bucket/prefix with a valid bucket name`);
  }
  return { bucket, prefix: m?.[2] ?? '' };
}
