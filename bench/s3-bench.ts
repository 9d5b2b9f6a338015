/**
 * S3 source and S3 warehouse throughput against a real S3-compatible server (s3rver on loopback), each figure next to
 * a local-disk baseline measured in the same run on the same bytes, and the ratio.
 *
 *   npx tsx bench/s3-bench.ts [--objects 2000] [--kib 64] [--publish-mib 64]
 *
 * Default: 2,000 objects of 64 KiB (125 MiB, the size of about a day of 5-minute files from a few ENIs' accounts) and
 * a 64 MiB publish. s3rver stores objects as files and is far slower than S3 or MinIO: the figures bound the client
 * code's overhead from above; they are not a prediction of AWS throughput.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createS3WarehouseStorage } from '../src/ingest/s3-warehouse-storage.ts';
import { listS3Objects } from '../src/ingest/sources/s3-source.ts';
import type { SourceObject } from '../src/ingest/sources/source-object.ts';
import { startS3Server } from '../test/helpers/s3-server.ts';

const { values } = parseArgs({
  options: {
    objects: { type: 'string', default: '2000' },
    kib: { type: 'string', default: '64' },
    'publish-mib': { type: 'string', default: '64' },
  },
});
const objects = Number(values.objects);
const kib = Number(values.kib);
const publishMib = Number(values['publish-mib']);

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const out = await fn();
  return [out, (performance.now() - t0) / 1000];
}

async function drain(stream: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  for await (const c of stream) n += (c as Buffer).length;
  return n;
}

async function pool<T>(items: readonly T[], width: number, fn: (t: T) => Promise<unknown>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (i < items.length) await fn(items[i++]!);
    }),
  );
}

function row(what: string, s3Secs: number, localSecs: number, unit: string, amount: number): void {
  const rate = (s: number) => `${(amount / s).toFixed(1).padStart(9)} ${unit}/s`;
  console.log(
    `${what.padEnd(34)} s3 ${rate(s3Secs)}   local ${rate(localSecs)}   ratio s3/local ${(localSecs / s3Secs).toFixed(3)}`,
  );
}

const s3 = await startS3Server(['bench']);
const work = await mkdtemp(join(tmpdir(), 'flowql-s3-bench-'));
try {
  console.log(
    `s3-bench: ${objects} objects x ${kib} KiB, publish ${publishMib} MiB (s3rver on loopback; baseline: local disk)`,
  );
  const body = randomBytes(kib * 1024);
  const keys = Array.from(
    { length: objects },
    (_, i) => `AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/01/02/f${String(i).padStart(6, '0')}.log.gz`,
  );
  const local = join(work, 'src');
  await mkdir(local);
  await pool(keys, 8, async (k) => {
    await s3.put('bench', k, body);
    await writeFile(join(local, k.replaceAll('/', '_')), body);
  });

  // Listing: ListObjectsV2 pages of 1,000 vs readdir + stat.
  const [listed, listS3] = await timed(async () => {
    let n = 0;
    for await (const _o of listS3Objects('s3://bench/AWSLogs', { client: s3.client })) n++;
    return n;
  });
  const [, listLocal] = await timed(async () => {
    const names = await readdir(local);
    await pool(names, 8, (n) => stat(join(local, n)));
  });
  if (listed !== objects) throw new Error(`listed ${listed} of ${objects} objects`);
  row('list', listS3, listLocal, 'objects', objects);

  // Streamed reads, 8 at a time (the ingester's concurrency): GetObject vs createReadStream.
  const found: SourceObject[] = [];
  for await (const o of listS3Objects('s3://bench/AWSLogs', { client: s3.client })) found.push(o);
  const mib = (objects * kib) / 1024;
  const [, readS3] = await timed(() => pool(found, 8, async (o) => drain(await o.open())));
  const names = await readdir(local);
  const [, readLocal] = await timed(() => pool(names, 8, (n) => drain(createReadStream(join(local, n)))));
  row('stream objects (8 at a time)', readS3, readLocal, 'MiB', mib);

  // Warehouse publish: multipart upload vs copy on local disk.
  const wh = await createS3WarehouseStorage('s3://bench/wh', { client: s3.client });
  const big = join(wh.stagingDir, 'part-big.parquet');
  await writeFile(big, randomBytes(publishMib * 1024 * 1024));
  const [, copyLocal] = await timed(() => copyFile(big, join(work, 'copy.parquet')));
  const [, publishS3] = await timed(() =>
    wh.publishFile(big, 'flows/account_id=123456789012/region=us-east-1/date=2024-01-02/part-big.parquet'),
  );
  row('publish one file', publishS3, copyLocal, 'MiB', publishMib);
  await wh.close();
} finally {
  await rm(work, { recursive: true, force: true });
  await s3.stop();
}
