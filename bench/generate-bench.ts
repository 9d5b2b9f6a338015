/**
 * Benchmark of `flowql generate`: records/s of generateDataset, next to a baseline measured in the same run.
 *
 * Baseline: the I/O floor. The same number of records, cut into the same number of objects, gzipped on the thread
 * pool at the same level and written to the same kind of folders: what any generator must pay to deliver these
 * bytes. The records are 4096 v5 lines with varied addresses, ports and counters, rendered before the clock starts and
 * cycled (a single repeated line compresses ~10x better than real records and made the floor unreachably low). The ratio says how much the simulation (topology, conversations, rendering, ground truth)
 * costs on top.
 *
 *   npm run bench:generate                      # 10M records over 2 days (the size)
 *   BENCH_RECORDS=1000000 npm run bench:generate  # smaller, while developing
 *   npx tsx bench/generate-bench.ts --records 1000000 --days 2 --gzip-level 6
 *
 * Prints wall seconds and CPU seconds (user + system of the whole process, the thread pool's gzip included): on a
 * shared machine wall time is noisy, CPU seconds much less so.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
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
const gzipLevel = arg('gzip-level', 1);

/** Wall and CPU seconds of `run`. */
async function timed<T>(run: () => Promise<T>): Promise<{ result: T; wall: number; cpu: number }> {
  const cpu0 = process.cpuUsage();
  const began = performance.now();
  const result = await run();
  const { user, system } = process.cpuUsage(cpu0);
  return { result, wall: (performance.now() - began) / 1000, cpu: (user + system) / 1e6 };
}

/** 4096 distinct v5 lines (seeded LCG), as Buffers, so the baseline's bodies compress about like generated ones. */
function sampleLines(): Buffer[] {
  let x = 12345;
  const rand = (n: number): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 8) % n;
  };
  return Array.from({ length: 4096 }, () => {
    const [a, b] = [
      `10.${10 + rand(7)}.${rand(6)}.${10 + rand(200)}`,
      `10.${10 + rand(7)}.${rand(6)}.${10 + rand(200)}`,
    ];
    const eni = `eni-${rand(1 << 30)
      .toString(16)
      .padStart(8, '0')}${rand(1 << 30)
      .toString(16)
      .padStart(9, '0')}`;
    const start = 1725500000 + rand(300);
    const packets = 2 + rand(60);
    const fields = [5, '012345678901', eni, a, b, 32768 + rand(28000), [5432, 443, 8080, 53][rand(4)], 6, packets];
    const tail = [packets * (52 + rand(1300)), start, start + rand(59), 'ACCEPT', 'OK', 'vpc-0a1b2c3d4e5f60718'];
    const meta = ['subnet-0a1b2c3d4e5f60718', `i-${eni.slice(4)}`, rand(20), 'IPv4', a, b, 'eu-west-1', 'euw1-az1'];
    return Buffer.from(`${[...fields, ...tail, ...meta, '- - - -', rand(2) ? 'egress' : 'ingress', 1].join(' ')}\n`);
  });
}

async function baseline(dir: string, files: number, lines: readonly Buffer[]): Promise<void> {
  const perFile = Math.ceil(records / files);
  const inFlight: Promise<void>[] = [];
  for (let f = 0, left = records, next = 0; left > 0; f++, left -= perFile) {
    const folder = join(dir, String(Math.floor(f / 100)));
    if (f % 100 === 0) await mkdir(folder, { recursive: true });
    const parts: Buffer[] = [Buffer.from('header\n')];
    for (let i = Math.min(perFile, left); i > 0; i--) parts.push(lines[next++ % lines.length]!);
    const body = Buffer.concat(parts);
    while (inFlight.length >= 4) await inFlight.shift();
    inFlight.push(gzipAsync(body, { level: gzipLevel }).then((z) => writeFile(join(folder, `${f}.log.gz`), z)));
  }
  await Promise.all(inFlight);
}

const root = await mkdtemp(join(tmpdir(), 'flowql-bench-generate-'));
try {
  const mem = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 200);
  let peak = 0;
  const gen = await timed(() =>
    generateDataset({ outDir: join(root, 'generated'), records, days, seed: 1, gzipLevel }),
  );
  clearInterval(mem);
  const summary = gen.result;
  const lines = sampleLines();
  const floor = await timed(() => baseline(join(root, 'baseline'), summary.files, lines));
  const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  console.log(`flowql generate: ${fmt(records)} records, ${days} days, gzip level ${gzipLevel} (load average ${load})`);
  console.log(
    `  generator : ${gen.wall.toFixed(2)} s wall, ${gen.cpu.toFixed(2)} s CPU, ${fmt(records / gen.wall)} records/s, ` +
      `${fmt(records / gen.cpu)} records per CPU-second, ${summary.files} files, ${(summary.bytes / 1e6).toFixed(1)} MB, ` +
      `peak RSS ${(peak / 1e6).toFixed(0)} MB`,
  );
  console.log(
    `  baseline  : ${floor.wall.toFixed(2)} s wall, ${floor.cpu.toFixed(2)} s CPU, ${fmt(records / floor.wall)} records/s ` +
      `(pre-rendered varied lines, same file count, gzip + write only)`,
  );
  console.log(
    `  ratio     : generator takes ${(gen.wall / floor.wall).toFixed(2)}x the I/O floor's wall time, ` +
      `${(gen.cpu / floor.cpu).toFixed(2)}x its CPU time`,
  );
} finally {
  await rm(root, { recursive: true, force: true });
}
