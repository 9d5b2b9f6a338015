/**
 * listS3Objects against a real S3-compatible server (s3rver on loopback): full-prefix listing across pages,
 * folder semantics of a prefix, ETag versions, streamed reads pinned to the listed ETag.
 */
import { createHash } from 'node:crypto';
import { gzipSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listS3Objects } from '../../src/ingest/sources/s3-source.ts';
import type { SourceObject } from '../../src/ingest/sources/source-object.ts';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.ts';

let s3: S3TestServer;

beforeAll(async () => {
  s3 = await startS3Server(['logs', 'many']);
});
afterAll(async () => {
  await s3?.stop();
});

async function collect(it: AsyncIterable<SourceObject>): Promise<SourceObject[]> {
  const out: SourceObject[] = [];
  for await (const o of it) out.push(o);
  return out;
}

async function readAll(o: SourceObject): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await o.open()) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const md5 = (b: string | Uint8Array) => createHash('md5').update(b).digest('hex');

describe('listS3Objects', () => {
  const key1 =
    'AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/01/02/123456789012_vpcflowlogs_us-east-1_fl-1_20240102T0000Z_aaaa0001.log.gz';
  const key2 =
    'AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=eu-west-1/year=2024/month=01/day=02/x.log.parquet';
  const text = 'version account-id\n2 123456789012\n';
  const gz = gzipSync(text);

  beforeAll(async () => {
    await s3.put('logs', key1, gz);
    await s3.put('logs', key2, 'PAR1-not-really');
    await s3.put('logs', 'AWSLogs2/other.log', 'x');
    await s3.put('logs', 'AWSLogs/', ''); // a console-made folder marker
  });

  it('lists a prefix as a folder, in key order, with bare ETags and sizes', async () => {
    const objs = await collect(listS3Objects('s3://logs/AWSLogs', { client: s3.client }));
    expect(objs.map((o) => o.uri)).toEqual([`s3://logs/${key1}`, `s3://logs/${key2}`]);
    expect(objs.map((o) => o.key)).toEqual([key1, key2]);
    expect(objs.map((o) => o.size)).toEqual([gz.length, 15]);
    // A single-part upload's ETag is the MD5 of its bytes, without S3's surrounding quotes.
    expect(objs.map((o) => o.version)).toEqual([md5(gz), md5('PAR1-not-really')]);
  });

  it('lists the whole bucket, and one object by its exact key', async () => {
    const all = await collect(listS3Objects('s3://logs', { client: s3.client }));
    expect(all.map((o) => o.key)).toEqual(['AWSLogs/' + key1.slice(8), key2, 'AWSLogs2/other.log']);
    const one = await collect(listS3Objects(`s3://logs/${key1}`, { client: s3.client }));
    expect(one.map((o) => o.key)).toEqual([key1]);
  });

  it('streams the raw (still gzipped) bytes, fresh on every open()', async () => {
    const [o] = await collect(listS3Objects(`s3://logs/${key1}`, { client: s3.client }));
    const a = await readAll(o!);
    const b = await readAll(o!);
    expect(a.equals(gz)).toBe(true);
    expect(gunzipSync(b).toString()).toBe(text);
  });

  it('builds its own client from endpoint options', async () => {
    const objs = await collect(listS3Objects('s3://logs/AWSLogs2/', s3.clientOptions));
    expect(objs.map((o) => [o.key, o.version])).toEqual([['AWSLogs2/other.log', md5('x')]]);
    expect((await readAll(objs[0]!)).toString()).toBe('x');
  });

  it('gives a changed object a new version and refuses to read it under the old one', async () => {
    const key = 'changing/a.log';
    await s3.put('logs', key, 'first');
    const [before] = await collect(listS3Objects(`s3://logs/${key}`, { client: s3.client }));
    await s3.put('logs', key, 'second');
    const [after] = await collect(listS3Objects(`s3://logs/${key}`, { client: s3.client }));
    expect([before!.version, after!.version]).toEqual([md5('first'), md5('second')]);
    expect((await readAll(after!)).toString()).toBe('second');
    await expect(readAll(before!)).rejects.toThrow(
      `cannot read s3://logs/changing/a.log: PreconditionFailed: the object changed since it was listed ` +
        `(ETag ${md5('second')}, listed ${md5('first')})`,
    );
  });

  it('says which URI failed when the bucket does not exist', async () => {
    await expect(collect(listS3Objects('s3://no-such-bucket/x', { client: s3.client }))).rejects.toThrow(
      /^cannot list s3:\/\/no-such-bucket\/x: NoSuchBucket/,
    );
  });

  it('rejects a malformed URI naming it', async () => {
    await expect(collect(listS3Objects('s3://B_ad/x', { client: s3.client }))).rejects.toThrow(
      'invalid S3 URI "s3://B_ad/x": expected s3://bucket/prefix with a valid bucket name',
    );
  });

  it('pages past 1,000 keys without losing or repeating one', async () => {
    const keys = Array.from({ length: 1005 }, (_, i) => `p/${String(i).padStart(4, '0')}.log`);
    for (let i = 0; i < keys.length; i += 25) {
      await Promise.all(keys.slice(i, i + 25).map((k) => s3.put('many', k, k)));
    }
    const objs = await collect(listS3Objects('s3://many/p', { client: s3.client }));
    expect(objs.length).toBe(1005);
    expect(new Set(objs.map((o) => o.key)).size).toBe(1005);
    expect(objs[0]!.key).toBe('p/0000.log');
    expect(objs[1004]!.key).toBe('p/1004.log');
    expect(objs[1000]!.version).toBe(md5('p/1000.log'));
  });
});
