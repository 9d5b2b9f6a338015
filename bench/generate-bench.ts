/**
 * Benchmark of `flowql generate`: records/s of generateDataset, next to a baseline measured in the same run.
 *
 * Baseline: the I/O floor. The same number of records as one fixed v5 line, cut into the same number of objects,
 * gzipped on the thread pool at the same level and written to the same kind of folders: what any generator must pay
 * to deliver these bytes. The ratio says how much the simulation (topology, conversations, rendering, ground truth)
 * costs on top.
 *
 *   npm run bench:generate                      # 10M records over 2 days (the size)
 *   BENCH_RECORDS=1000000 npm run bench:generate  # smaller, while developing
 *   npx tsx bench/generate-bench.ts --records 1000000 --days 2 --gzip-level 6
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { generateDataset } from '../src/generator/generate-dataset.ts';

const gzipAsync = promisify(gzip);
const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const records = arg('records', Number(process.env.BENCH_RECORDS ?? 10_000_000));
const days = arg('days', 2);
const gzipLevel = arg('gzip-level', 6);

async function baseline(dir: string, files: number): Promise<number> {
  const line =
    '5 012345678901 eni-0a1b2c3d4e5f60718 10.10.1.23 10.10.3.45 44321 5432 6 12 4321 1725500000 1725500059 ACCEPT OK ' +
    'vpc-0a1b2c3d4e5f60718 subnet-0a1b2c3d4e5f60718 i-0a1b2c3d4e5f60718 0 IPv4 10.10.1.23 10.10.3.45 eu-west-1 euw1-az1 - - - - egress 1\n';
  const began = performance.now();
  const perFile = Math.ceil(records / files);
  const inFlight: Promise<void>[] = [];
  for (let f = 0, left = records; left > 0; f++, left -= perFile) {
    const folder = join(dir, String(Math.floor(f / 100)));
    if (f % 100 === 0) await mkdir(folder, { recursive: true });
    const body = Buffer.from(`header\n${line.repeat(Math.min(perFile, left))}`);
    while (inFlight.length >= 8) await inFlight.shift();
    inFlight.push(gzipAsync(body, { level: gzipLevel }).then((z) => writeFile(join(folder, `${f}.log.gz`), z)));
  }
  await Promise.all(inFlight);
  return (performance.now() - began) / 1000;
}

const root = await mkdtemp(join(tmpdir(), 'flowql-bench-generate-'));
try {
  const mem = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 200);
  let peak = 0;
  const summary = await generateDataset({ outDir: join(root, 'generated'), records, days, seed: 1, gzipLevel });
  clearInterval(mem);
  const floor = await baseline(join(root, 'baseline'), summary.files);
  const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
  console.log(`flowql generate: ${fmt(records)} records, ${days} days, gzip level ${gzipLevel}`);
  console.log(
    `  generator : ${summary.seconds.toFixed(2)} s, ${fmt(summary.recordsPerSecond)} records/s, ${summary.files} files, ${(summary.bytes / 1e6).toFixed(1)} MB, peak RSS ${(peak / 1e6).toFixed(0)} MB`,
  );
  console.log(
    `  baseline  : ${floor.toFixed(2)} s, ${fmt(records / floor)} records/s (fixed line, same file count, gzip + write only)`,
  );
  console.log(`  ratio     : generator takes ${(summary.seconds / floor).toFixed(2)}x the I/O floor`);
} finally {
  await rm(root, { recursive: true, force: true });
}
