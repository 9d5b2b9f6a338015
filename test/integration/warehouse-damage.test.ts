/**
 * A damaged warehouse (issue 17.6): one flows file truncated, another deleted, an orphan dropped under edges/. Queries
 * of the damaged partitions answer WAREHOUSE_DAMAGED naming file and partition (datasets: HTTP 503), the log names
 * them, /ready turns red with the reason; `flowql check` (the real CLI) reports all three problems with exit code 2;
 * `--repair` takes the damaged files out and marks their objects for reload (exit 0); /ready is green again; the next
 * ingest of the same sources restores the exact totals and the check is clean.
 *
 * Data: four objects, one ingest (one flows file) each, all 2023-11-14. Objects 1 and 2: account 111122223333, 3
 * records each of bytes 100*i+k (k = 1..3); objects 3 and 4: account 444455556666, likewise. Totals: 12 records,
 * bytes 3*(100+200+300+400) + 4*6 = 3024.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runIngest } from '../../src/ingest/ingest-run.ts';
import { createLocalWarehouseStorage } from '../../src/ingest/local-warehouse-storage.ts';
import type { CheckReport, RepairReport } from '../../src/ingest/warehouse-check.ts';
import type { RunningServer } from '../../src/main.ts';
import type { Manifest } from '../../src/store/layout.ts';
import { startTestServer, type LogLines } from '../helpers/tenant-fixture.ts';

const BIN = join(import.meta.dirname, '../../bin/flowql.js');
const HEADER =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
const START = 1699956000; // 2023-11-14T10:00:00Z
const DAY = '{ from: "2023-11-14T00:00:00Z", to: "2023-11-15T00:00:00Z" }';
const QUERY = `{ ingestStatus { records } hourly: flowSummary(filter: { timeRange: ${DAY} }) { records bytes }
  raw: flowSummary(filter: { timeRange: ${DAY}, srcPort: [{ from: 0, to: 65535 }] }) { records bytes } }`;
const A = '111122223333';
const B = '444455556666';

const objectOf = (i: number, account: string) =>
  gzipSync(
    `${HEADER}\n${[1, 2, 3]
      .map(
        (k) =>
          `2 ${account} eni-${i}${k}aaaaaaaaaaaaaaaa 10.1.${i}.${k} 10.1.0.9 ${40000 + k} 443 6 1 ${100 * i + k} ${START + 60 * i} ${START + 60 * i + 60} ACCEPT OK`,
      )
      .join('\n')}\n`,
  );

let root: string;
let data: string;
let sources: string;
let server: RunningServer;
let lines: LogLines;
const objectFile: Record<number, string> = {};

const manifestOf = async () => JSON.parse(await readFile(join(data, '_flowql/manifest.json'), 'utf8')) as Manifest;
const ingest = async () =>
  runIngest({ sources: [sources], storage: await createLocalWarehouseStorage(data), threads: 1 });
const graphql = async (query: string) => {
  const res = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  return (await res.json()) as {
    data?: Record<string, { records: string; bytes: string }> | null;
    errors?: { message: string; extensions: Record<string, unknown> }[];
  };
};
const ready = async () => {
  const res = await fetch(`${server.url}/ready`);
  const body = (await res.json()) as { checks: { name: string; ok: boolean; detail: string }[] };
  return { status: res.status, files: body.checks.find((c) => c.name === 'files') };
};
const check = (...args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((done) =>
    execFile(process.execPath, [BIN, 'check', '--data', data, ...args], (err, stdout, stderr) =>
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'flowql-damage-'));
  data = join(root, 'data');
  sources = join(root, 'src');
  const dir = join(sources, 'AWSLogs', A, 'vpcflowlogs/us-east-1/2023/11/14');
  await mkdir(dir, { recursive: true });
  for (const i of [1, 2, 3, 4]) {
    const before = new Set(
      (await manifestOf().catch(() => ({ files: [] }) as unknown as Manifest)).files.map((f) => f.path),
    );
    await writeFile(join(dir, `object-${i}.log.gz`), objectOf(i, i <= 2 ? A : B));
    await ingest();
    objectFile[i] = (await manifestOf()).files.find((f) => f.table === 'flows' && !before.has(f.path))!.path;
  }
  ({ server, lines } = await startTestServer({ dataDir: data }));
}, 120_000);

afterAll(async () => {
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

describe('a damaged warehouse', () => {
  it('is reported, named and repaired; the next ingest restores the exact totals', async () => {
    const healthy = await graphql(QUERY);
    expect(healthy.data).toEqual({
      ingestStatus: { records: '12' },
      hourly: { records: '12', bytes: '3024' },
      raw: { records: '12', bytes: '3024' },
    });
    expect((await ready()).status).toBe(200);

    // Damage: object 1's file truncated to half, object 3's deleted, a stray file under edges/.
    const truncated = objectFile[1]!;
    const deleted = objectFile[3]!;
    const size = (await manifestOf()).files.find((f) => f.path === truncated)!.bytes;
    await truncate(join(data, truncated), Math.floor(size / 2));
    await unlink(join(data, deleted));
    const orphan = `edges/account_id=${A}/region=us-east-1/date=2023-11-14/part-stray.parquet`;
    await writeFile(join(data, orphan), 'not parquet');

    const broken = await graphql(
      `{ raw: flowSummary(filter: { timeRange: ${DAY}, accountIds: ["${A}"], srcPort: [{ from: 0, to: 65535 }] }) { records } }`,
    );
    expect(broken.errors?.map((e) => [e.extensions.code, e.extensions.file, e.extensions.partition])).toEqual([
      ['WAREHOUSE_DAMAGED', truncated, `${A}/us-east-1/2023-11-14`],
    ]);
    expect(broken.errors![0]!.message).toContain('flowql check --repair');
    expect(broken.errors![0]!.message).not.toContain(data); // no absolute path to the client
    const other = await graphql(
      `{ raw: flowSummary(filter: { timeRange: ${DAY}, accountIds: ["${B}"], srcPort: [{ from: 0, to: 65535 }] }) { records } }`,
    );
    expect(other.errors?.map((e) => [e.extensions.code, e.extensions.file])).toEqual([['WAREHOUSE_DAMAGED', deleted]]);
    const logged = lines.filter((l) => l.msg === 'warehouse damaged').map((l) => [l.file, l.partition]);
    expect(logged).toContainEqual([truncated, `${A}/us-east-1/2023-11-14`]);
    expect(logged).toContainEqual([deleted, `${B}/us-east-1/2023-11-14`]);

    const download = await fetch(`${server.url}/datasets/flows.csv?from=2023-11-14T00:00:00Z&to=2023-11-15T00:00:00Z`);
    const body = (await download.json()) as { error: { code: string; file: string; partition: string } };
    expect([download.status, body.error.code]).toEqual([503, 'WAREHOUSE_DAMAGED']);
    expect([truncated, deleted]).toContain(body.error.file);

    const red = await ready();
    expect([red.status, red.files?.ok]).toEqual([503, false]);
    expect(red.files!.detail).toMatch(/^2 damaged file\(s\): /);
    expect(red.files!.detail).toContain(deleted);
    expect(red.files!.detail).toContain('flowql check --repair');

    const found = await check('--json');
    expect(found.code).toBe(2);
    const report = JSON.parse(found.stdout) as CheckReport;
    expect(report.damaged.map((d) => [d.path, d.problem]).sort()).toEqual(
      [
        [deleted, 'missing'],
        [truncated, 'size'],
      ].sort(),
    );
    expect(report.orphans).toEqual([orphan]);
    expect(report.objectsMissingRows.map((o) => [o.uri.split('/').pop(), o.visible, o.records]).sort()).toEqual([
      ['object-1.log.gz', 0, 3],
      ['object-3.log.gz', 0, 3],
    ]);
    const text = await check();
    expect(text.code).toBe(2);
    expect(text.stdout).toContain(`${truncated} (partition ${A}/us-east-1/2023-11-14): size`);

    const repair = await check('--repair', '--json');
    expect([repair.code, repair.stderr]).toEqual([0, expect.stringContaining('marked for reload')]);
    const repaired = JSON.parse(repair.stdout) as RepairReport;
    expect([repaired.objectsMarkedForReload, repaired.after.damaged, repaired.after.orphans]).toEqual([2, [], []]);
    expect(repaired.after.objectsMissingRows.every((o) => o.markedForReload)).toBe(true);

    // The damaged files are out of the manifest: /ready is green, queries answer what is left (objects 2 and 4).
    expect((await ready()).status).toBe(200);
    const partial = await graphql(QUERY);
    expect([partial.errors, partial.data?.hourly, partial.data?.raw]).toEqual([
      undefined,
      { records: '6', bytes: '1812' },
      { records: '6', bytes: '1812' },
    ]);

    const again = await ingest();
    expect([again.objects.replaced, again.records]).toEqual([2, 6]);
    const restored = await graphql(QUERY);
    expect(restored.data).toEqual({
      ingestStatus: { records: '12' },
      hourly: { records: '12', bytes: '3024' },
      raw: { records: '12', bytes: '3024' },
    });
    const clean = await check('--json');
    expect(clean.code).toBe(0);
    expect((JSON.parse(clean.stdout) as CheckReport).objectsMissingRows).toEqual([]);
  }, 180_000);
});
