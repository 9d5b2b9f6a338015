/**
 * `flowql ingest --watch` as a real child process: it loads the folder's object, picks up a second object added while
 * it runs (the manifest shows it), and on SIGTERM exits 0. Each object is loaded exactly once across all the runs:
 *   a.log.gz  2 records (eni-a1 100 B, eni-a2 200 B)
 *   b.log.gz  1 record  (eni-b1 7 B)        => manifest: 2 objects, 3 records, 307 bytes in the runs' summaries.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, expect, it } from 'vitest';
import type { Manifest } from '../../src/store/layout.ts';

const BIN = join(import.meta.dirname, '../../bin/flowql.js');
const HEADER =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
const rec = (eni: string, bytes: number) =>
  `2 111122223333 ${eni} 10.1.0.1 10.1.0.2 443 50000 6 1 ${bytes} 1700000000 1700000060 ACCEPT OK`;
const object = (lines: string[]) => gzipSync(`${HEADER}\n${lines.join('\n')}\n`);

let root = '';
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

async function manifest(data: string): Promise<Manifest | null> {
  return readFile(join(data, '_flowql/manifest.json'), 'utf8').then(
    (t) => JSON.parse(t) as Manifest,
    () => null,
  );
}

interface RunSummary {
  objects: { loaded: number; skipped: number; failed: number };
  records: number;
}

/** The complete JSON summary lines printed so far (a line still being written is left for the next look). */
function summaries(stdout: string): RunSummary[] {
  return stdout
    .split('\n')
    .slice(0, -1)
    .filter(Boolean)
    .map((l) => JSON.parse(l) as RunSummary);
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

it('loads new objects every interval until SIGTERM, then finishes and exits 0 without loading anything twice', async () => {
  root = await mkdtemp(join(tmpdir(), 'flowql-watch-'));
  const src = join(root, 'src/AWSLogs/111122223333/vpcflowlogs/eu-west-1/2023/11/14');
  const data = join(root, 'data');
  await mkdir(src, { recursive: true });
  await writeFile(join(src, 'a.log.gz'), object([rec('eni-a1', 100), rec('eni-a2', 200)]));
  const child = spawn(
    process.execPath,
    [BIN, 'ingest', join(root, 'src'), '--data', data, '--watch', '--interval', '1', '--json', '--threads', '1'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  try {
    await until('the first object in the manifest', async () => (await manifest(data))?.ingest.objects === 1);
    await writeFile(join(src, 'b.log.gz'), object([rec('eni-b1', 7)]));
    await until('the second object in the manifest', async () => (await manifest(data))?.ingest.objects === 2);
    // At least one more run after the one that loaded b, which must skip both. Count from the printed summaries,
    // not from the manifest: a run commits its manifest before it prints its summary line.
    await until('a run after the second object', async () => {
      const loaded = summaries(stdout).map((r) => r.objects.loaded);
      const loadedB = loaded.findIndex((_, i) => loaded.slice(0, i + 1).reduce((n, l) => n + l, 0) === 2);
      return loadedB >= 0 && loaded.length > loadedB + 1;
    });
  } finally {
    child.kill('SIGTERM');
  }
  expect(await exited).toBe(0);
  expect(stderr).toContain('flowql ingest --watch: SIGTERM, stopping after the current run');
  const m = (await manifest(data))!;
  expect([m.ingest.objects, m.ingest.records, m.ingest.rejects]).toEqual([2, 3, 0]);
  const runs = summaries(stdout);
  expect(runs.length).toBeGreaterThanOrEqual(3);
  expect(runs.reduce((n, r) => n + r.objects.loaded, 0)).toBe(2);
  expect(runs.reduce((n, r) => n + r.records, 0)).toBe(3);
  expect(runs.map((r) => r.objects.failed).every((f) => f === 0)).toBe(true);
  expect(runs.at(-1)!.objects).toMatchObject({ loaded: 0, skipped: 2 });
});
