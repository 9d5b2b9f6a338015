/**
 * The S3 warehouse storage against a real S3-compatible server: the WarehouseStorage contract (idempotent publish,
 * delete, list, manifest, ledger round trip through a real DuckDB file).
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3WarehouseStorage, type S3WarehouseStorage } from '../../src/ingest/s3-warehouse-storage.ts';
import { EMPTY_MANIFEST, type Manifest } from '../../src/store/layout.ts';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.ts';

let s3: S3TestServer;
let wh: S3WarehouseStorage;

beforeAll(async () => {
  s3 = await startS3Server(['lake']);
  wh = await createS3WarehouseStorage('s3://lake/wh/', { client: s3.client });
});
afterAll(async () => {
  await wh?.close();
  await s3?.stop();
});

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

async function getText(key: string): Promise<string> {
  const out = await s3.client.send(new GetObjectCommand({ Bucket: 'lake', Key: key }));
  return (await out.Body?.transformToString()) ?? '';
}

describe('S3 warehouse storage', () => {
  it('normalises its location and stages locally', () => {
    expect(wh.location).toBe('s3://lake/wh');
    expect(existsSync(wh.stagingDir)).toBe(true);
  });

  it('has no manifest until one is written, then reads back exactly what was written', async () => {
    expect(await wh.readManifest()).toBeNull();
    const m: Manifest = {
      ...EMPTY_MANIFEST,
      generation: 3,
      files: [
        {
          path: 'flows/account_id=123456789012/region=us-east-1/date=2024-01-02/part-a.parquet',
          table: 'flows',
          accountId: '123456789012',
          region: 'us-east-1',
          date: '2024-01-02',
          rows: 7,
          bytes: 11,
        },
      ],
    };
    await wh.writeManifest(m);
    expect(await wh.readManifest()).toEqual(m);
    expect(JSON.parse(await getText('wh/_flowql/manifest.json')).generation).toBe(3);
  });

  it('publishes a staged file under the prefix, and a second publish after the staged copy is gone is a no-op', async () => {
    const staged = join(wh.stagingDir, 'part-a.parquet');
    await writeFile(staged, 'parquet bytes A');
    const path = 'flows/account_id=123456789012/region=us-east-1/date=2024-01-02/part-a.parquet';
    await wh.publishFile(staged, path);
    expect(existsSync(staged)).toBe(false);
    expect(await getText(`wh/${path}`)).toBe('parquet bytes A');
    await wh.publishFile(staged, path); // roll-forward after a crash
    expect(await getText(`wh/${path}`)).toBe('parquet bytes A');
  });

  it('uploads a file bigger than one multipart part byte for byte (no chunk framing stored in the object)', async () => {
    const big = randomBytes(12 * 1024 * 1024 + 3); // lib-storage splits at 5 MiB: three parts
    const staged = join(wh.stagingDir, 'big.parquet');
    await writeFile(staged, big);
    await wh.publishFile(staged, 'edges/big.parquet');
    const local = await wh.readableFile('edges/big.parquet');
    const back = await readFile(local);
    expect([back.length, md5(back)]).toEqual([big.length, md5(big)]);
    await wh.deleteFile('edges/big.parquet');
    expect(existsSync(local)).toBe(false);
  });

  it('refuses to publish when neither the staged file nor the object exists, naming both', async () => {
    const staged = join(wh.stagingDir, 'never.parquet');
    await expect(wh.publishFile(staged, 'flows/x/never.parquet')).rejects.toThrow(
      `cannot publish flows/x/never.parquet to s3://lake/wh: ${staged} is gone and so is s3://lake/wh/flows/x/never.parquet`,
    );
  });

  it('lists files under a relative prefix with their sizes, and reads them back through a local copy', async () => {
    const staged = join(wh.stagingDir, 'part-b.parquet');
    await writeFile(staged, 'BB');
    await wh.publishFile(staged, 'flows/account_id=123456789012/region=eu-west-1/date=2024-01-03/part-b.parquet');
    await s3.put('lake', 'wh2/flows/not-ours.parquet', 'x'); // a sibling prefix is not under wh/
    const files = await wh.listFiles('flows/');
    expect(files.map((f) => [f.path, f.bytes]).sort()).toEqual([
      ['flows/account_id=123456789012/region=eu-west-1/date=2024-01-03/part-b.parquet', 2],
      ['flows/account_id=123456789012/region=us-east-1/date=2024-01-02/part-a.parquet', 15],
    ]);
    const local = await wh.readableFile(
      'flows/account_id=123456789012/region=eu-west-1/date=2024-01-03/part-b.parquet',
    );
    expect(await readFile(local, 'utf8')).toBe('BB');
    await expect(wh.readableFile('flows/missing.parquet')).rejects.toThrow(
      'cannot read flows/missing.parquet: s3://lake/wh/flows/missing.parquet does not exist',
    );
  });

  it('deletes a file (twice without error) and it leaves the listing', async () => {
    const path = 'flows/account_id=123456789012/region=eu-west-1/date=2024-01-03/part-b.parquet';
    await wh.deleteFile(path);
    await wh.deleteFile(path);
    expect((await wh.listFiles('flows/')).map((f) => f.path)).toEqual([
      'flows/account_id=123456789012/region=us-east-1/date=2024-01-02/part-a.parquet',
    ]);
  });

  it('round-trips a checkpointed DuckDB ledger, and refuses one with a pending WAL', async () => {
    const ledger = await wh.ledgerPath();
    expect(existsSync(ledger)).toBe(false); // no ledger on S3 yet: a new one
    const db = await DuckDBInstance.create(ledger);
    const conn = await db.connect();
    await conn.run(
      "CREATE TABLE sources (uri VARCHAR, version VARCHAR); INSERT INTO sources VALUES ('s3://a/b', 'e1'), ('s3://a/c', 'e2')",
    );
    await conn.run('CHECKPOINT');
    conn.closeSync();
    db.closeSync();
    await wh.saveLedger(ledger);

    const other = await createS3WarehouseStorage('s3://lake/wh', { client: s3.client });
    try {
      const copy = await other.ledgerPath();
      expect(copy).not.toBe(ledger);
      const db2 = await DuckDBInstance.create(copy);
      const c2 = await db2.connect();
      const rows = (await c2.runAndReadAll('SELECT uri, version FROM sources ORDER BY uri')).getRows();
      c2.closeSync();
      db2.closeSync();
      expect(rows).toEqual([
        ['s3://a/b', 'e1'],
        ['s3://a/c', 'e2'],
      ]);
    } finally {
      await other.close();
    }

    await writeFile(`${ledger}.wal`, 'pending');
    await expect(wh.saveLedger(ledger)).rejects.toThrow(
      `cannot save the ledger to s3://lake/wh: ${ledger}.wal is not empty (CHECKPOINT first)`,
    );
    await rm(`${ledger}.wal`);
  });

  it('fails at once, naming the warehouse, when the bucket does not exist', async () => {
    await expect(createS3WarehouseStorage('s3://nope-bucket/wh', { client: s3.client })).rejects.toThrow(
      /^cannot open the warehouse s3:\/\/nope-bucket\/wh \(bucket nope-bucket\): NotFound/,
    );
  });

  it('close() removes the work folder it made, but not one it was given', async () => {
    const made = await createS3WarehouseStorage('s3://lake/other', s3.clientOptions);
    await made.close();
    expect(existsSync(made.stagingDir)).toBe(false);
    const given = await mkdtemp(join(tmpdir(), 'flowql-given-'));
    const kept = await createS3WarehouseStorage('s3://lake/other', { ...s3.clientOptions, workDir: given });
    await kept.close();
    expect(existsSync(kept.stagingDir)).toBe(true);
    await rm(given, { recursive: true });
  });
});
