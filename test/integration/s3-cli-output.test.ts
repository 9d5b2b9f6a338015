/**
 * What S3 commands print, from the real `flowql` command against a real S3-compatible server (s3rver on loopback):
 * no AWS SDK notice about Node versions (flowql runs on Node 20 on purpose), and a missing region named as the
 * setting to fix (AWS_REGION), not the SDK's bare "Region is missing".
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.ts';

const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/flowql.js');
const HEADER =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
const RECORD = '2 111122223333 eni-a1 10.1.0.1 10.1.0.2 443 50000 6 1 100 1700000000 1700000060 ACCEPT OK';
const NOTICE = /NodeVersionSupportWarning|January 2027|upgrade to node/;

let s3: S3TestServer;
let work = '';

beforeAll(async () => {
  s3 = await startS3Server(['logs']);
  await s3.put(
    'logs',
    'AWSLogs/111122223333/vpcflowlogs/eu-west-1/2023/11/14/a.log.gz',
    gzipSync(`${HEADER}\n${RECORD}\n`),
  );
  work = await mkdtemp(join(tmpdir(), 'flowql-s3-cli-output-'));
});

afterAll(async () => {
  await s3?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

/** Runs a node program with only the given environment (plus PATH and a HOME without ~/.aws). */
function run(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) =>
    execFile(
      process.execPath,
      args,
      { cwd: ROOT, env: { PATH: process.env.PATH, HOME: work, ...env } },
      (err, stdout, stderr) => done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

it('ingests from S3 without the AWS SDK notice about Node versions on stderr', async () => {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 22) {
    // The control: a client built without flowql's setting prints the notice on this Node, so its absence below means something.
    const bare = await run(
      [
        '--input-type=module',
        '-e',
        "const { S3Client } = await import('@aws-sdk/client-s3'); new S3Client({ region: 'us-east-1' });",
      ],
      {},
    );
    expect(bare.stderr).toMatch(NOTICE);
  }
  const { code, stdout, stderr } = await run(
    [
      BIN,
      'ingest',
      's3://logs/AWSLogs/',
      '--data',
      join(work, 'wh'),
      '--s3-endpoint',
      s3.endpoint,
      '--s3-force-path-style',
      '--threads',
      '1',
      '--json',
    ],
    s3.env,
  );
  expect(code, stderr).toBe(0);
  expect(JSON.parse(stdout)).toMatchObject({ objects: { loaded: 1 }, records: 1 });
  expect(stderr).not.toMatch(NOTICE);
});

it('says to set AWS_REGION when serving an S3 warehouse with no region configured, and exits 1', async () => {
  // No endpoint (AWS itself), no AWS_REGION, no profile, EC2 metadata off: the region is resolved before any request,
  // so this fails without any network traffic.
  const { code, stderr } = await run(
    [BIN, 'serve', '--data', 's3://lake/wh', '--port', '0', '--cache-dir', join(work, 'cache')],
    {
      AWS_ACCESS_KEY_ID: 'x',
      AWS_SECRET_ACCESS_KEY: 'y',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: join(work, 'no-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(work, 'no-credentials'),
    },
  );
  expect(code).toBe(1);
  expect(stderr).toContain(
    'flowql: cannot open the warehouse s3://lake/wh (bucket lake): S3 needs a region and none is configured: set AWS_REGION',
  );
  expect(stderr).not.toContain('Region is missing');
  expect(stderr).not.toMatch(NOTICE);
});
