/**
 * A warehouse under an S3 prefix (`flowql ingest --data s3://bucket/prefix`): same layout as a local one, so Athena,
 * Trino or Spark can read the flows where they land. DuckDB writes only local files, so staging, the ledger and
 * copies of committed files for reading live in a local work folder; publishing is an upload, the manifest a single
 * PUT (atomic on S3: a reader gets the old or the new manifest, never a mix).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  paginateListObjectsV2,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Manifest } from '../store/layout.ts';
import { createS3Client, parseS3Uri, type S3ClientOptions } from './s3-client.ts';
import { describeS3Error } from './sources/s3-source.ts';
import {
  DEFAULT_RETIRE_GRACE_MS,
  type StorageOptions,
  type StoredFile,
  type WarehouseStorage,
} from './warehouse-storage.ts';

/** Options of an S3 warehouse: where S3 is (or a ready client) and, optionally, the local work folder. */
export interface S3WarehouseOptions extends S3ClientOptions, StorageOptions {
  readonly client?: S3Client;
  /** Local folder for staging, the ledger copy and downloaded files; default a fresh temp folder, removed by close(). */
  readonly workDir?: string;
}

/** The S3 storage, plus close(): it owns a client and a local work folder. */
export interface S3WarehouseStorage extends WarehouseStorage {
  /** Releases the client and removes the work folder (when it made one). */
  close(): Promise<void>;
}

const LEDGER = '_flowql/ledger.duckdb';
const MANIFEST = '_flowql/manifest.json';

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Opens the warehouse at `uri` (`s3://bucket/prefix`); fails at once, naming it, if the bucket is unreachable. */
export async function createS3WarehouseStorage(
  uri: string,
  opts: S3WarehouseOptions = {},
): Promise<S3WarehouseStorage> {
  const { bucket, prefix: rawPrefix } = parseS3Uri(uri);
  const prefix = rawPrefix.replace(/\/+$/, '');
  const location = `s3://${bucket}${prefix ? `/${prefix}` : ''}`;
  const keyOf = (path: string) => (prefix ? `${prefix}/${path}` : path);
  const client = opts.client ?? createS3Client(opts);
  const fail = (what: string, err: unknown): never => {
    throw new Error(`${what}: ${describeS3Error(err)}`, { cause: err });
  };

  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch (err) {
    if (opts.client === undefined) client.destroy();
    fail(`cannot open the warehouse ${location} (bucket ${bucket})`, err);
  }

  const work = opts.workDir ?? (await mkdtemp(join(tmpdir(), 'flowql-s3-warehouse-')));
  const stagingDir = join(work, 'staging');
  const cacheDir = join(work, 'committed');
  const localLedger = join(work, 'ledger.duckdb');
  await mkdir(stagingDir, { recursive: true });
  let ledgerFetched = false;

  /** Streams an object to a local file via a temp name, so a half-written copy is never mistaken for a whole one. */
  async function download(key: string, target: string): Promise<boolean> {
    let body: Readable;
    try {
      const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      body = out.Body as Readable;
    } catch (err) {
      if (isNotFound(err)) return false;
      return fail(`cannot read s3://${bucket}/${key}`, err);
    }
    await mkdir(dirname(target), { recursive: true });
    const tmp = `${target}.${process.pid}.part`;
    await pipeline(body, createWriteStream(tmp));
    await rename(tmp, target);
    return true;
  }

  /** Multipart upload for big files (lib-storage), streamed from disk. */
  async function upload(localPath: string, key: string): Promise<void> {
    try {
      await new Upload({ client, params: { Bucket: bucket, Key: key, Body: createReadStream(localPath) } }).done();
    } catch (err) {
      fail(`cannot upload ${localPath} to s3://${bucket}/${key}`, err);
    }
  }

  return {
    location,
    retireGraceMs: opts.retireGraceMs ?? DEFAULT_RETIRE_GRACE_MS,
    stagingDir,

    async ledgerPath() {
      // Fetched once per run: afterwards the local copy is ahead of S3 until saveLedger uploads it.
      if (!ledgerFetched) {
        await rm(localLedger, { force: true });
        await rm(`${localLedger}.wal`, { force: true });
        await download(keyOf(LEDGER), localLedger);
        ledgerFetched = true;
      }
      return localLedger;
    },

    async saveLedger(localLedgerPath) {
      // Un-checkpointed changes sit in the WAL; uploading the main file alone would silently drop them.
      const wal = await stat(`${localLedgerPath}.wal`).catch(() => null);
      if (wal !== null && wal.size > 0) {
        throw new Error(
          `cannot save the ledger to ${location}: ${localLedgerPath}.wal is not empty (CHECKPOINT first)`,
        );
      }
      await upload(localLedgerPath, keyOf(LEDGER));
    },

    async publishFile(staged, path) {
      const key = keyOf(path);
      if (!(await exists(staged))) {
        // Rolled forward after a crash: the upload finished before the staged copy was removed.
        try {
          await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
          return;
        } catch (err) {
          if (isNotFound(err)) {
            throw new Error(
              `cannot publish ${path} to ${location}: ${staged} is gone and so is s3://${bucket}/${key}`,
              {
                cause: err,
              },
            );
          }
          fail(`cannot check s3://${bucket}/${key}`, err);
        }
      }
      await upload(staged, key);
      await rm(staged, { force: true });
    },

    async deleteFile(path) {
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: keyOf(path) }));
      } catch (err) {
        if (!isNotFound(err)) fail(`cannot delete s3://${bucket}/${keyOf(path)}`, err);
      }
      await rm(join(cacheDir, ...path.split('/')), { force: true });
    },

    async listFiles(sub) {
      const base = keyOf('');
      const files: StoredFile[] = [];
      try {
        const pages = paginateListObjectsV2({ client }, { Bucket: bucket, Prefix: keyOf(sub) });
        for await (const page of pages) {
          for (const o of page.Contents ?? []) {
            if (o.Key === undefined || o.Key.endsWith('/')) continue;
            files.push({ path: o.Key.slice(base.length), bytes: o.Size ?? 0 });
          }
        }
      } catch (err) {
        fail(`cannot list ${location}/${sub}`, err);
      }
      return files;
    },

    async readableFile(path) {
      // Committed files are immutable (part-<uuid>), so a copy fetched once stays valid until deleteFile.
      const target = join(cacheDir, ...path.split('/'));
      if (await exists(target)) return target;
      if (!(await download(keyOf(path), target)))
        throw new Error(`cannot read ${path}: s3://${bucket}/${keyOf(path)} does not exist`);
      return target;
    },

    async readManifest() {
      let text: string;
      try {
        const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: keyOf(MANIFEST) }));
        text = (await out.Body?.transformToString('utf8')) ?? '';
      } catch (err) {
        if (isNotFound(err)) return null;
        return fail(`cannot read s3://${bucket}/${keyOf(MANIFEST)}`, err);
      }
      try {
        return JSON.parse(text) as Manifest;
      } catch (err) {
        throw new Error(`cannot read s3://${bucket}/${keyOf(MANIFEST)}: not JSON (${(err as Error).message})`, {
          cause: err,
        });
      }
    },

    async writeManifest(manifest) {
      try {
        await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: keyOf(MANIFEST),
            Body: JSON.stringify(manifest, null, 1),
            ContentType: 'application/json',
          }),
        );
      } catch (err) {
        fail(`cannot write s3://${bucket}/${keyOf(MANIFEST)}`, err);
      }
    },

    async close() {
      if (opts.client === undefined) client.destroy();
      if (opts.workDir === undefined) await rm(work, { recursive: true, force: true });
    },
  };
}
