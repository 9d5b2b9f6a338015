/**
 * npm run bench:ingest [-- --records 1000000]  (default 10,000,000)
 *
 * Generates gzip flow-log text in AWS's layout (cached in .bench/), then, in the same run and on the same files:
 *   baseline: DuckDB's own read_csv(delim ' ', header, nullstr '-') -> COPY ... PARTITION_BY, as a user would script it
 *   flowql:   `flowql ingest` (child process), then `flowql compact`
 * and prints records/s of both, the ratio, peak RSS of each process (sampled every 100 ms from /proc, DuckDB
 * included) and bytes on disk per record after compaction. Targets: ratio >= 1.0, peak < 1.5 GiB, <= 15 B/record.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createGzip } from 'node:zlib';
import { once } from 'node:events';

const args = process.argv.slice(2);
const arg = (name: string, dflt: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
};
const RECORDS = Number(arg('--records', '10000000'));
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

/** Runs a child, sampling its RSS; returns elapsed ms, peak RSS bytes and stdout. */
async function measure(cmd: string[]): Promise<{ ms: number; peak: number; stdout: string }> {
  const started = Date.now();
  const child = spawn(process.execPath, cmd, { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  let peak = 0;
  const timer = setInterval(async () => {
    try {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      peak = Math.max(peak, kb * 1024);
    } catch {
      /* exited */
    }
  }, 100);
  const [code] = (await once(child, 'exit')) as [number];
  clearInterval(timer);
  if (code !== 0 && code !== 3) throw new Error(`${cmd.join(' ')} exited ${code}`);
  return { ms: Date.now() - started, peak, stdout };
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
const files = await generate();
console.log(`bench:ingest  ${RECORDS} records in ${files.length} gzip objects (${ROOT})`);

await rm(join(ROOT, 'baseline'), { recursive: true, force: true });
const base = await measure(['--input-type=module', '-e', BASELINE, join(ROOT, 'baseline'), ...files]);
await rm(join(ROOT, 'data'), { recursive: true, force: true });
const ing = await measure(['bin/flowql.js', 'ingest', SRC, '--data', join(ROOT, 'data'), '--json']);
const summary = JSON.parse(ing.stdout) as { records: number };
const comp = await measure(['bin/flowql.js', 'compact', '--data', join(ROOT, 'data'), '--json']);
const manifest = JSON.parse(await readFile(join(ROOT, 'data/_flowql/manifest.json'), 'utf8')) as { files: { bytes: number }[] };
const bytes = manifest.files.reduce((a, f) => a + f.bytes, 0);
void readdir;

const baseRate = RECORDS / (base.ms / 1000);
const ingRate = summary.records / (ing.ms / 1000);
console.log(`baseline  read_csv -> COPY PARTITION_BY   ${(base.ms / 1000).toFixed(1)} s   ${Math.round(baseRate)} records/s   peak RSS ${gib(base.peak)}`);
console.log(`flowql    ingest (${summary.records} records)   ${(ing.ms / 1000).toFixed(1)} s   ${Math.round(ingRate)} records/s   peak RSS ${gib(ing.peak)}`);
console.log(`ratio     flowql / baseline = ${(ingRate / baseRate).toFixed(2)}  (target >= 1.0)`);
console.log(`compact   ${(comp.ms / 1000).toFixed(1)} s   peak RSS ${gib(comp.peak)}   ${manifest.files.length} files`);
console.log(`storage   ${(bytes / summary.records).toFixed(2)} bytes/record after compact  (target <= 15)`);
