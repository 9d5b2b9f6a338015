/**
 * npm run bench:ingest [-- --records 1000000]  (default 10,000,000; BENCH_INGEST_RECORDS=... works too)
 *
 * Generates gzip flow-log text in AWS's layout (cached in .bench/), then, in the same run and on the same files:
 *   baseline: DuckDB's own read_csv(delim ' ', header, nullstr '-') -> COPY ... PARTITION_BY, as a user would script it
 *   flowql:   `flowql ingest --no-derive` (the same job as the baseline: text -> partitioned Parquet), then the default
 *             `flowql ingest` (also derives handshakes/ and edges/), each into an empty warehouse; then `flowql compact`
 * and prints wall time and records/s of each, the ratio to the baseline, CPU seconds (user + system, DuckDB threads
 * included: wall time is noisy on a shared machine, CPU time less so), peak RSS, the load average before and after,
 * and bytes on disk per record after compaction. Targets: ratio >= 1.0, peak < 1.5 GiB, <= 15 B/record.
 * CPU time and peak RSS come from /usr/bin/time when it exists, else from sampling /proc every 100 ms.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createGzip } from 'node:zlib';
import { once } from 'node:events';

const args = process.argv.slice(2);
const arg = (name: string, dflt: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
};
const RECORDS = Number(arg('--records', process.env.BENCH_INGEST_RECORDS ?? '10000000'));
const PER_FILE = 250_000;
const ROOT = resolve('.bench', `ingest-${RECORDS}`);
const SRC = join(ROOT, 'src');
const HEADER = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
const ACCOUNTS = ['111122223333', '444455556666'];
const REGION = 'us-east-1';
const DAY0 = Date.UTC(2024, 0, 1) / 1000;

/** Deterministic synthetic records: 2 accounts, 3 days, 200 interfaces, 5-minute files. */
async function generate(): Promise<string[]> {
  const files: string[] = [];
  let n = 0;
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let f = 0; n < RECORDS; f++) {
    const acct = ACCOUNTS[f % ACCOUNTS.length]!;
    const t0 = DAY0 + Math.floor((f / 2) * 300) % (3 * 86400);
    const d = new Date(t0 * 1000).toISOString();
    const dir = join(SRC, 'AWSLogs', acct, 'vpcflowlogs', REGION, d.slice(0, 4), d.slice(5, 7), d.slice(8, 10));
    await mkdir(dir, { recursive: true });
    const stamp = `${d.slice(0, 4)}${d.slice(5, 7)}${d.slice(8, 10)}T${d.slice(11, 13)}${d.slice(14, 16)}Z`;
    const path = join(dir, `${acct}_vpcflowlogs_${REGION}_fl-0123abcd_${stamp}_${f.toString(16).padStart(8, '0')}.log.gz`);
    files.push(path);
    if (existsSync(path)) {
      n += Math.min(PER_FILE, RECORDS - n);
      continue;
    }
    const gz = createGzip();
    const out = gz.pipe(createWriteStream(path));
    const lines: string[] = [HEADER];
    const count = Math.min(PER_FILE, RECORDS - n);
    for (let i = 0; i < count; i++) {
      const eni = Math.floor(rnd() * 200);
      const s = t0 + Math.floor(rnd() * 300);
      const tcp = rnd() < 0.8;
      lines.push(
        `2 ${acct} eni-${eni.toString(16).padStart(17, '0')} 10.0.${eni}.${Math.floor(rnd() * 250)} 172.16.${Math.floor(rnd() * 250)}.${Math.floor(rnd() * 250)} ` +
          `${tcp ? 443 : 53} ${32768 + Math.floor(rnd() * 28000)} ${tcp ? 6 : 17} ${1 + Math.floor(rnd() * 50)} ${40 + Math.floor(rnd() * 70000)} ${s} ${s + Math.floor(rnd() * 60)} ${rnd() < 0.95 ? 'ACCEPT' : 'REJECT'} OK`,
      );
      if (lines.length === 10000) {
        if (!gz.write(`${lines.join('\n')}\n`)) await once(gz, 'drain');
        lines.length = 0;
      }
    }
    gz.end(lines.length ? `${lines.join('\n')}\n` : '');
    await once(out, 'finish');
    n += count;
  }
  return files;
}

interface Measured {
  readonly ms: number;
  readonly peak: number;
  readonly cpu: number;
  readonly stdout: string;
}

const TIME = '/usr/bin/time';

/** Runs `node <args>` as a child; elapsed ms, peak RSS bytes, CPU seconds (user + system) and stdout. */
async function measure(nodeArgs: string[]): Promise<Measured> {
  const useTime = existsSync(TIME);
  const report = join(tmpdir(), `flowql-bench-time-${process.pid}-${Date.now()}`);
  const [cmd, argv] = useTime ? [TIME, ['-f', '%U %S %M', '-o', report, process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
  const started = Date.now();
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  let peak = 0;
  let ticks = 0;
  const timer = setInterval(async () => {
    if (useTime) return;
    try {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      peak = Math.max(peak, Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024);
      const stat = (await readFile(`/proc/${child.pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
      ticks = Number(stat[11]) + Number(stat[12]); // utime, stime (fields 14, 15)
    } catch {
      /* exited */
    }
  }, 100);
  const [code] = (await once(child, 'exit')) as [number];
  clearInterval(timer);
  const ms = Date.now() - started;
  if (code !== 0 && code !== 3) throw new Error(`${nodeArgs.join(' ')} exited ${code}`);
  if (!useTime) return { ms, peak, cpu: ticks / 100, stdout };
  const [user, sys, maxKb] = (await readFile(report, 'utf8')).trim().split('\n').at(-1)!.split(' ').map(Number);
  await rm(report, { force: true });
  return { ms, peak: maxKb! * 1024, cpu: user! + sys!, stdout };
}

const BASELINE = `
import { DuckDBInstance } from '@duckdb/node-api';
const [out, ...files] = process.argv.slice(1);
const db = await DuckDBInstance.create(':memory:', { threads: '2', memory_limit: '1GB' });
const c = await db.connect();
const list = files.map((f) => "'" + f + "'").join(',');
await c.run(\`COPY (SELECT * EXCLUDE ("account-id"), "account-id" AS account_id, '${REGION}' AS region,
  CAST(to_timestamp("start") AS DATE) AS date FROM read_csv([\${list}], delim=' ', header=true, nullstr='-'))
  TO '\${out}' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (account_id, region, date))\`);
`;

const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
const files = await generate();
console.log(`bench:ingest  ${RECORDS} records in ${files.length} gzip objects (${ROOT})`);
const loadBefore = load();

await rm(join(ROOT, 'baseline'), { recursive: true, force: true });
const base = await measure(['--input-type=module', '-e', BASELINE, join(ROOT, 'baseline'), ...files]);
const runs: { label: string; m: Measured; records: number }[] = [];
for (const [label, extra] of [['ingest --no-derive', ['--no-derive']], ['ingest (derives)', []]] as const) {
  await rm(join(ROOT, 'data'), { recursive: true, force: true });
  const m = await measure(['bin/flowql.js', 'ingest', SRC, '--data', join(ROOT, 'data'), '--json', ...extra]);
  runs.push({ label, m, records: (JSON.parse(m.stdout) as { records: number }).records });
}
const comp = await measure(['bin/flowql.js', 'compact', '--data', join(ROOT, 'data'), '--json']);
const manifest = JSON.parse(await readFile(join(ROOT, 'data/_flowql/manifest.json'), 'utf8')) as { files: { path: string; bytes: number }[] };
const flowsFiles = manifest.files.filter((f) => f.path.startsWith('flows/'));
const bytes = flowsFiles.reduce((a, f) => a + f.bytes, 0);

const rate = (records: number, m: Measured) => records / (m.ms / 1000);
const line = (label: string, records: number, m: Measured) =>
  `${label.padEnd(34)} ${(m.ms / 1000).toFixed(1).padStart(7)} s  ${String(Math.round(rate(records, m))).padStart(8)} records/s` +
  `  cpu ${m.cpu.toFixed(1).padStart(6)} s (${((m.cpu * 1e6) / records).toFixed(2)} us/record)  peak RSS ${gib(m.peak)}`;
console.log(line('baseline  read_csv -> COPY', RECORDS, base));
for (const r of runs) {
  console.log(line(`flowql    ${r.label}`, r.records, r.m));
  console.log(
    `  ratio flowql / baseline: throughput ${(rate(r.records, r.m) / rate(RECORDS, base)).toFixed(2)} (target >= 1.0), ` +
      `cpu per record ${((r.m.cpu / r.records) / (base.cpu / RECORDS)).toFixed(2)} x the baseline's`,
  );
}
console.log(`compact   ${(comp.ms / 1000).toFixed(1)} s   cpu ${comp.cpu.toFixed(1)} s   peak RSS ${gib(comp.peak)}   ${flowsFiles.length} flows files`);
console.log(`storage   ${(bytes / runs[1]!.records).toFixed(2)} bytes/record in flows files after compact  (target <= 15)`);
console.log(`load average (1, 5, 15 min): before ${loadBefore}, after ${load()}  (2 cores: above 2 means the figures are shared)`);
