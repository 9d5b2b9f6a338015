/**
 * `npm run bench:parse`: how much the flow-log parser costs on top of reading the file at all.
 *
 * Generates (or reuses) .bench/parse-<N>.log.gz, a gzip text object in AWS's default format with N synthetic records
 * (default 2,000,000; set PARSE_BENCH_RECORDS=1000000 or pass --records 1000000 for a quicker run), then times, in
 * the same run:
 *   (1) gunzip alone,
 *   (2) gunzip + split into lines (the baseline: what any reader must do),
 *   (3) the full parse through readFlowFile (one item per await),
 *   (3b) the same through readFlowBatches (one batch per await; what the ingester uses),
 * and prints records/s and uncompressed MB/s for each, and the cost ratio (3)/(2) (target <= 2.5x).
 */
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { createGunzip, createGzip } from 'node:zlib';
import { readFlowBatches, readFlowFile } from '../src/ingest/flow-file-reader.ts';
import { readLineBatches } from '../src/ingest/text-lines.ts';

const HEADER =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';

function recordCount(): number {
  const i = process.argv.indexOf('--records');
  const raw = i >= 0 ? process.argv[i + 1] : process.env.PARSE_BENCH_RECORDS;
  const n = raw === undefined ? 2_000_000 : Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--records: expected a positive integer, found '${raw}'`);
  return n;
}

/** xorshift32: a deterministic, dependency-free PRNG so every run benchmarks the same bytes. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** A self-contained synthetic writer: plausible default-format records (2% NODATA, 5% REJECT, TCP/UDP/ICMP mix). */
async function writeFixture(path: string, n: number): Promise<void> {
  const next = prng(42);
  const enis = Array.from(
    { length: 64 },
    (_v, i) => `eni-${(0x0a1b2c3d4e5f6000 + i * 7919).toString(16).padStart(17, '0').slice(0, 17)}`,
  );
  const ip = (r: number) => `10.${(r >>> 16) & 255}.${(r >>> 8) & 255}.${r & 255}`;
  const tmp = `${path}.tmp`;
  const gzip = createGzip({ level: 6 });
  const out = gzip.pipe(createWriteStream(tmp));
  let chunk = `${HEADER}\n`;
  let t = 1_718_000_000;
  for (let i = 0; i < n; i++) {
    const r = next();
    if (i % 1000 === 0) t += 60;
    const eni = enis[r & 63]!;
    if (r % 50 === 0) chunk += `2 123456789012 ${eni} - - - - - - - ${t} ${t + 59} - NODATA\n`;
    else {
      const proto = r % 10 < 7 ? 6 : r % 10 < 9 ? 17 : 1;
      const sport = proto === 1 ? 0 : 1024 + (next() % 64000);
      const dport = proto === 1 ? 0 : [443, 80, 22, 5432, 53, 8080][r % 6]!;
      const packets = 1 + (next() % 5000);
      const bytes = packets * (40 + (next() % 1400));
      const action = r % 20 === 0 ? 'REJECT' : 'ACCEPT';
      chunk += `2 123456789012 ${eni} ${ip(next())} ${ip(next())} ${sport} ${dport} ${proto} ${packets} ${bytes} ${t} ${t + (r % 60)} ${action} OK\n`;
    }
    if (chunk.length > 1 << 16) {
      if (!gzip.write(chunk)) await once(gzip, 'drain');
      chunk = '';
    }
  }
  gzip.end(chunk);
  await once(out, 'finish');
  renameSync(tmp, path);
}

interface Figure {
  label: string;
  seconds: number;
  /** CPU seconds of this process (user + system): steadier than wall time on a busy machine. */
  cpu: number;
  records: number;
}

async function time(label: string, fn: () => Promise<number>): Promise<Figure> {
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  const records = await fn();
  const c = process.cpuUsage(c0);
  return { label, seconds: Number(process.hrtime.bigint() - t0) / 1e9, cpu: (c.user + c.system) / 1e6, records };
}

async function main(): Promise<void> {
  const n = recordCount();
  mkdirSync('.bench', { recursive: true });
  const path = join('.bench', `parse-${n}.log.gz`);
  if (!existsSync(path)) {
    process.stdout.write(`generating ${path} (${n.toLocaleString('en')} records)... `);
    await writeFixture(path, n);
    process.stdout.write('done\n');
  }
  const input = { name: path, path, open: async () => createReadStream(path) };

  let rawBytes = 0;
  const gunzipOnly = await time('(1) gunzip', async () => {
    rawBytes = 0;
    for await (const c of createReadStream(path).pipe(createGunzip({ chunkSize: 64 * 1024 })))
      rawBytes += (c as Buffer).length;
    return n;
  });
  const lines = await time('(2) gunzip + split lines', async () => {
    let count = 0;
    for await (const batch of readLineBatches(createReadStream(path).pipe(createGunzip({ chunkSize: 64 * 1024 }))))
      count += batch.length;
    return count - 1;
  });
  const full = await time('(3) full parse (readFlowFile)', async () => {
    let count = 0;
    for await (const item of readFlowFile(input)) if (item.kind === 'record') count++;
    return count;
  });
  const batched = await time('(3b) full parse (readFlowBatches)', async () => {
    let count = 0;
    for await (const batch of readFlowBatches(input)) for (const item of batch) if (item.kind === 'record') count++;
    return count;
  });

  const mb = rawBytes / 1e6;
  console.log(
    `input: ${path}, ${statSync(path).size.toLocaleString('en')} bytes gzip, ${mb.toFixed(1)} MB uncompressed, ${n.toLocaleString('en')} records`,
  );
  for (const f of [gunzipOnly, lines, full, batched]) {
    const rps = Math.round(f.records / f.seconds).toLocaleString('en');
    console.log(
      `${f.label.padEnd(36)} ${f.seconds.toFixed(2).padStart(7)} s wall ${f.cpu.toFixed(2).padStart(7)} s cpu  ${rps.padStart(11)} records/s  ${(mb / f.seconds).toFixed(1).padStart(7)} MB/s`,
    );
  }
  if (full.records !== n || batched.records !== n)
    throw new Error(`parsed ${full.records}/${batched.records} records, expected ${n}`);
  const ratio = (a: Figure, b: Figure) =>
    `${(a.seconds / b.seconds).toFixed(2)}x wall, ${(a.cpu / b.cpu).toFixed(2)}x cpu`;
  console.log(`cost ratio (3)/(2): ${ratio(full, lines)}  (target <= 2.5x)`);
  console.log(`cost ratio (3b)/(2): ${ratio(batched, lines)}`);
}

await main();
