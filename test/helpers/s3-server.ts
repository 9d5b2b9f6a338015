/**
 * A real S3-compatible server (s3rver) on a free loopback port, for integration tests.
 *
 * It runs in a child process, not the vitest worker, because s3rver's continuation tokens need
 * `node --openssl-legacy-provider` (without it, the second ListObjectsV2 page fails with a 500). The child watches
 * its stdin: when the test process goes away, for any reason, the pipe closes and the child deletes its data
 * directory and exits, so no server or temp dir outlives a crashed run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createS3Client, type S3ClientOptions } from '../../src/ingest/s3-client.ts';

/** A running server and what a test needs to talk to it. */
export interface S3TestServer {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** The server's data directory (deleted on stop, or when the test process dies). */
  readonly dir: string;
  /** Options for createS3Client / listS3Objects (endpoint, path style, the server's fixed credentials). */
  readonly clientOptions: S3ClientOptions;
  /** A client for arranging fixtures (checksum workarounds included). */
  readonly client: S3Client;
  /** Environment for a `flowql` child process: the server's credentials through the AWS SDK's default chain. */
  readonly env: Readonly<Record<string, string>>;
  createBucket(name: string): Promise<void>;
  put(bucket: string, key: string, body: string | Uint8Array): Promise<void>;
  /** Stop the server and delete its data; safe to call twice. */
  stop(): Promise<void>;
}

// s3rver's built-in account.
const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

// s3rver 3.7 answers a PUT once it has read the body, before the object's file is written (its store resolves on the
// input's 'finish' and, for a buffered body, right after ending the write stream), so a GET sent after the PUT's
// answer could read a truncated or empty object: a suite run on a loaded machine read an empty manifest. S3 never
// shows part of an object, so the child writes each object to a temporary name (which listings skip: they only see
// names ending in ._S3rver_object) and renames it into place before answering.
const CHILD_SCRIPT = `
import { createWriteStream, rmSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { createHash, randomUUID } from 'node:crypto';
import { dirname } from 'node:path';
const [modUrl, dir] = process.argv.slice(1);
const { default: S3rver } = await import(modUrl);
const { default: Store } = await import(new URL('./stores/filesystem.js', modUrl).href);
Store.prototype.putObject = async function (object) {
  const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
  await mkdir(dirname(objectPath), { recursive: true });
  const partial = objectPath + '.' + randomUUID() + '.partial';
  const md5 = createHash('md5');
  let size = 0;
  await new Promise((resolve, reject) => {
    const out = createWriteStream(partial);
    out.on('close', resolve);
    out.on('error', reject);
    if (Buffer.isBuffer(object.content)) {
      md5.update(object.content);
      size = object.content.length;
      out.end(object.content);
    } else {
      object.content.on('error', reject);
      object.content.on('data', (chunk) => { md5.update(chunk); size += chunk.length; });
      object.content.pipe(out);
    }
  });
  await rename(partial, objectPath);
  const digest = md5.digest('hex');
  await this.putMetadata(object.bucket, object.key, object.metadata, digest);
  return { size, md5: digest };
};
const server = new S3rver({ address: '127.0.0.1', port: 0, directory: dir, silent: true });
const { port } = await server.run();
let leaving = false;
// Stop serving first, so no request writes into the tree while it is being deleted; then delete with retries.
const bye = () => {
  if (leaving) return;
  leaving = true;
  const done = () => { try { rmSync(dir, { recursive: true, force: true, maxRetries: 5 }); } finally { process.exit(0); } };
  server.close(done);
  setTimeout(done, 2000).unref();
};
process.stdin.on('end', bye);
process.stdin.on('close', bye);
process.stdin.resume();
process.on('SIGTERM', bye);
process.stdout.write(JSON.stringify({ port }) + '\\n');
`;

function waitForPort(child: ChildProcess, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => fail(new Error(`s3rver did not start within ${timeoutMs} ms: ${err}`)), timeoutMs);
    const fail = (e: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(e);
    };
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line !== undefined) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { port: number }).port);
      }
    });
    child.once('exit', (code) => fail(new Error(`s3rver exited with code ${code} before starting: ${err}`)));
  });
}

/** Start s3rver on a free loopback port with a fresh temp dir and the given buckets. */
export async function startS3Server(buckets: readonly string[] = []): Promise<S3TestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'flowql-s3rver-'));
  const modUrl = pathToFileURL(createRequire(import.meta.url).resolve('s3rver')).href;
  const child = spawn(
    process.execPath,
    ['--openssl-legacy-provider', '--input-type=module', '-e', CHILD_SCRIPT, modUrl, dir],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const port = await waitForPort(child, 20_000);
  const endpoint = `http://127.0.0.1:${port}`;
  const clientOptions: S3ClientOptions = {
    endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: CREDENTIALS,
  };
  const client = createS3Client(clientOptions);
  let stopped = false;
  const server: S3TestServer = {
    endpoint,
    dir,
    clientOptions,
    client,
    env: {
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      AWS_REGION: 'us-east-1',
    },
    async createBucket(name) {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    },
    async put(bucket, key, body) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      client.destroy();
      const exited = new Promise<void>((resolve) => {
        if (child.exitCode !== null) resolve();
        else child.once('exit', () => resolve());
      });
      child.stdin?.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
      // The child deletes its data on the way out; this catches what a killed or failed child left behind.
      await rm(dir, { recursive: true, force: true, maxRetries: 5 });
    },
  };
  try {
    for (const b of buckets) await server.createBucket(b);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return server;
}
