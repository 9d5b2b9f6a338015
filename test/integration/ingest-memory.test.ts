/**
 * Bounded memory of `flowql ingest` (issue 10.3): a real `node bin/flowql.js ingest` child with default settings
 * (derivation included) over 400 small gzip objects, its resident set sampled from /proc every 20 ms. The target is
 * 1 GiB whatever the number of objects or records; this fixture (400,000 v5 records over 2 days) peaked at 0.65 GiB
 * on a loaded 2-core machine, so the bound leaves room for a noisy machine while still catching per-object memory that
 * accumulates or a DuckDB budget that grows past Node's share. Also checks what was loaded, so a run that failed
 * early cannot pass on a small peak.
 * Fixture: object k (0..399) holds 1,000 records of day 1 (k < 200) or day 2, 4 observations per exchange (client
 * egress, server ingress, and the replies), addresses and ports from a linear congruential generator seeded by k.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';

const OBJECTS = 400;
const PER_OBJECT = 1_000;
const GIB = 2 ** 30;
const HEADER =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id sublocation-type sublocation-id pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path';
const DAY1 = 1725494400; // 2024-09-05T00:00:00Z

let root: string;

function object(k: number): Buffer {
  let x = k + 1;
  const next = (m: number) => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x % m;
  };
  const day = k < OBJECTS / 2 ? DAY1 : DAY1 + 86_400;
  const window = day + (k % (OBJECTS / 2)) * 400; // objects of ~7-minute windows through the day
  const lines = [HEADER];
  for (let i = 0; i < PER_OBJECT; i += 4) {
    const [c, s] = [`10.10.${next(8)}.${next(250)}`, `10.20.${next(8)}.${next(250)}`];
    const [ce, se] = [
      `eni-${(next(40) + 1).toString(16).padStart(17, '0')}`,
      `eni-${(next(40) + 41).toString(16).padStart(17, '0')}`,
    ];
    const [cp, sp] = [1024 + next(60000), [443, 5432, 8080, 53][next(4)]!];
    const start = window + next(400);
    const [req, resp] = [40 + next(5000), 40 + next(500000)];
    const rec = (
      eni: string,
      src: string,
      dst: string,
      sport: number,
      dport: number,
      bytes: number,
      flags: number,
      dir: string,
    ) =>
      `5 210987654321 ${eni} ${src} ${dst} ${sport} ${dport} 6 ${1 + (bytes >> 10)} ${bytes} ${start} ${start + 20} ACCEPT OK vpc-0a1 subnet-0b2 i-0c3 ${flags} IPv4 ${src} ${dst} eu-west-1 euw1-az1 - - - - ${dir} -`;
    lines.push(
      rec(ce, c, s, cp, sp, req, 3, 'egress'),
      rec(se, c, s, cp, sp, req, 3, 'ingress'),
      rec(se, s, c, sp, cp, resp, 19, 'egress'),
      rec(ce, s, c, sp, cp, resp, 19, 'ingress'),
    );
  }
  return gzipSync(`${lines.join('\n')}\n`);
}

async function rssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'flowql-ingest-memory-'));
  await mkdir(join(root, 'src'));
  for (let k = 0; k < OBJECTS; k++)
    await writeFile(join(root, 'src', `object-${String(k).padStart(3, '0')}.log.gz`), object(k));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

it('ingests 400 objects (400,000 records, derived tables included) with a peak RSS under 1 GiB', async () => {
  const child = spawn(
    process.execPath,
    ['bin/flowql.js', 'ingest', join(root, 'src'), '--data', join(root, 'data'), '--json'],
    {
      cwd: join(import.meta.dirname, '../..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let peakKiB = 0;
  const sampler = setInterval(() => {
    void rssKiB(child.pid!).then(
      (kib) => (peakKiB = Math.max(peakKiB, kib)),
      () => {},
    );
  }, 20);
  const code = await new Promise<number | null>((ok) => child.once('exit', ok));
  clearInterval(sampler);
  expect(code, stderr).toBe(0);
  const summary = JSON.parse(stdout) as {
    objects: { loaded: number };
    records: number;
    rejects: number;
    partitionsTouched: number;
  };
  expect([summary.objects.loaded, summary.records, summary.rejects, summary.partitionsTouched]).toEqual([
    OBJECTS,
    OBJECTS * PER_OBJECT,
    0,
    2,
  ]);
  const manifest = JSON.parse(await readFile(join(root, 'data/_flowql/manifest.json'), 'utf8')) as {
    files: { table: string }[];
  };
  expect([...new Set(manifest.files.map((f) => f.table))].sort()).toEqual([
    'edges',
    'flows',
    'flows_hourly',
    'handshakes',
  ]);
  expect(peakKiB * 1024).toBeGreaterThan(50 * 2 ** 20); // the sampler saw the process
  expect(peakKiB * 1024, `peak RSS ${(peakKiB / 1024).toFixed(0)} MiB`).toBeLessThan(GIB);
}, 600_000);
