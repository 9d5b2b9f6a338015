/**
 * ingestStatus for keys scoped to accounts: each key sees the objects, rejects and skipped objects of its own
 * accounts, an object holding rows of two accounts counts for both tenants and once for a key allowed both. Real
 * ingest (in-process) of objects in AWS's key layout under two accounts, served by the real server with API keys.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalWarehouseStorage } from '../../src/ingest/local-warehouse-storage.ts';
import { runIngest } from '../../src/ingest/ingest-run.ts';
import type { RunningServer } from '../../src/main.ts';
import { startTestServer } from '../helpers/tenant-fixture.ts';

const A = '111111111111';
const B = '222222222222';
const HEADER =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
const rec = (account: string, bytes: number | string) =>
  `2 ${account} eni-0a1b2c3d 10.1.0.1 10.1.0.2 443 50000 6 1 ${bytes} 1700000000 1700000060 ACCEPT OK`;
const dir = (account: string) => `AWSLogs/${account}/vpcflowlogs/eu-west-1/2023/11/14`;

let root = '';
let server: RunningServer;
const KEYS = { a: 'key-a-000000000000000001', b: 'key-b-000000000000000002', ab: 'key-ab-00000000000000003' };

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'flowql-status-'));
  const src = join(root, 'src');
  const put = async (path: string, body: string | Buffer) => {
    await mkdir(join(src, path, '..'), { recursive: true });
    await writeFile(join(src, path), body);
  };
  const object = (lines: string[]) => gzipSync(`${HEADER}\n${lines.join('\n')}\n`);
  // A: two objects, one with a malformed line. B: one object of its own, one holding a row of A's interface
  // (account-id A in B's log: the two accounts share it), and a marker that is not a flow log.
  await put(`${dir(A)}/a1.log.gz`, object([rec(A, 100), rec(A, 'lots')]));
  await put(`${dir(A)}/a2.log.gz`, object([rec(A, 200)]));
  await put(`${dir(B)}/b1.log.gz`, object([rec(B, 300), rec(B, -1)]));
  await put(`${dir(B)}/b2.log.gz`, object([rec(B, 400), rec(A, 500)]));
  await put(`${dir(B)}/_SUCCESS`, '');
  // A file whose key names no account and that holds no row belongs to no tenant (only unscoped access counts it).
  await put(`AWSLogs/digest.json`, '{"digestStartTime":"2023-11-14T00:00:00Z"}');
  const data = join(root, 'data');
  await runIngest({ sources: [join(src, 'AWSLogs')], storage: await createLocalWarehouseStorage(data), derive: false });
  const keysFile = join(root, 'keys.json');
  await writeFile(
    keysFile,
    JSON.stringify({
      keys: [
        { key: KEYS.a, accounts: [A], name: 'a' },
        { key: KEYS.b, accounts: [B], name: 'b' },
        { key: KEYS.ab, accounts: [A, B], name: 'ab' },
      ],
    }),
  );
  ({ server } = await startTestServer({ dataDir: data, apiKeysFile: keysFile }));
}, 120_000);

afterAll(async () => {
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

async function status(key: string) {
  const res = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query: '{ ingestStatus { objects records rejects skippedObjects } }' }),
  });
  return ((await res.json()) as { data: { ingestStatus: unknown } }).data.ingestStatus;
}

describe('ingestStatus for scoped keys', () => {
  it('counts each tenant its own objects, rejects and skipped objects; shared objects once', async () => {
    // A: a1, a2 and the shared b2; records a1 1 + a2 1 + A's row in b2; rejects: a1's line.
    expect(await status(KEYS.a)).toEqual({ objects: 3, records: '3', rejects: '1', skippedObjects: 0 });
    // B: b1, b2 and the _SUCCESS marker in its folder; records b1 1 + b2 1; rejects: b1's line.
    expect(await status(KEYS.b)).toEqual({ objects: 2, records: '2', rejects: '1', skippedObjects: 1 });
    // Both: four objects (b2 once), every record and reject.
    expect(await status(KEYS.ab)).toEqual({ objects: 4, records: '5', rejects: '2', skippedObjects: 1 });
  });
});
