/**
 * Recovery of an S3 warehouse (issue 17.7): files under any table prefix (flows/, handshakes/, edges/,
 * flows_hourly/) that the ledger does not know are orphans and are deleted; retired files waiting out their grace
 * period and the live files stay. Against s3rver on loopback, through the real S3 storage and an in-process ingest.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCompact } from '../../src/ingest/ingest-compact.ts';
import { runIngest } from '../../src/ingest/ingest-run.ts';
import { createS3WarehouseStorage } from '../../src/ingest/s3-warehouse-storage.ts';
import { TABLES } from '../../src/store/layout.ts';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.ts';

const HEADER =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
const DIR = 'AWSLogs/111122223333/vpcflowlogs/eu-west-1/2023/11/14';
const PARTITION = 'account_id=111122223333/region=eu-west-1/date=2023-11-14';

let s3: S3TestServer;
let root: string;

beforeAll(async () => {
  s3 = await startS3Server(['lake']);
  root = await mkdtemp(join(tmpdir(), 'flowql-s3-recovery-'));
});
afterAll(async () => {
  await s3?.stop();
  await rm(root, { recursive: true, force: true });
});

const objectOf = (i: number) =>
  gzipSync(
    `${HEADER}\n2 111122223333 eni-0${i}aaaaaaaaaaaaaaa 10.1.0.${i} 10.1.0.9 4000${i} 443 6 1 ${i} 1700000000 1700000060 ACCEPT OK\n`,
  );

it('sweeps orphans under every table prefix, keeping live and retired files', async () => {
  const src = join(root, 'src', DIR);
  await mkdir(src, { recursive: true });
  const open = () => createS3WarehouseStorage('s3://lake/wh', { client: s3.client });
  for (const i of [1, 2]) {
    await writeFile(join(src, `object-${i}.log.gz`), objectOf(i));
    const wh = await open();
    try {
      await runIngest({ sources: [join(root, 'src')], storage: wh, threads: 1 });
    } finally {
      await wh.close();
    }
  }
  const orphans = TABLES.map((t) => `${t}/${PARTITION}/part-orphan-${t}.parquet`);
  for (const path of orphans) await s3.put('lake', `wh/${path}`, 'left by a killed run');

  const wh = await open();
  try {
    const manifest = (await wh.readManifest())!;
    const retired = (manifest.retired ?? []).map((f) => f.path);
    expect(retired.length).toBeGreaterThanOrEqual(3); // the second ingest re-derived the day: 3 derived files retired
    const listAll = async () =>
      (await Promise.all(TABLES.map((t) => wh.listFiles(`${t}/`))))
        .flat()
        .map((f) => f.path)
        .sort();
    expect(await listAll()).toEqual([...manifest.files.map((f) => f.path), ...retired, ...orphans].sort());

    // Compaction starts with recovery: the orphans of all four tables go, nothing else does.
    await runCompact({ storage: wh });
    const after = (await wh.readManifest())!;
    const left = await listAll();
    for (const path of orphans) expect(left, path).not.toContain(path);
    expect(left).toEqual([...after.files.map((f) => f.path), ...(after.retired ?? []).map((f) => f.path)].sort());
    expect(after.files.filter((f) => f.table === 'flows')).toHaveLength(1); // compacted: one flows file, both records
    expect(after.files.find((f) => f.table === 'flows')!.rows).toBe(2);
  } finally {
    await wh.close();
  }
}, 120_000);
