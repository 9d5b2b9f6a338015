/**
 * `npm run bench:load [-- --records N --clients C --seconds S --data DIR --result-cache-mb M --distinct]` (default
 * 10,000,000 records, 50 clients, 60 s): a `flowql serve` child process on a loopback port, C concurrent clients for S
 * seconds mixing every GraphiQL
 * example query (src/graphql/graphiql-tabs.ts) with BI dataset downloads (summary, top-N, time series, a page of
 * flows as CSV). Prints throughput, p50/p95/p99 latency and errors per kind, next to a baseline measured in the same
 * run: the same clients hammering `/health` (HTTP + node overhead only) for S/6 seconds first, and the ratio.
 * Targets (issue 6): zero errors, p99 under 1 s at 10M records.
 *
 * By default clients repeat the same requests, as dashboard viewers do, so most are answered by the result cache
 * (src/store/result-cache.ts). `--distinct` makes every request different (each window starts a unique number of
 * seconds later), so every one runs DuckDB: the worst case. `--result-cache-mb 0` keeps no answers (identical
 * requests in flight are still shared).
 *
 * Where the time goes: the server's CPU time over the run (from /proc) per answered request, and the floor it sets on
 * the mean latency of C closed-loop clients on this machine's cores (Little's law: clients x CPU per request / cores);
 * per statement name, how often it ran and its mean execution and queueing time (the server's `query` log lines), and
 * how many were stopped while running and the execution time so thrown away (`query interrupted`).
 * `--profile` first sends each request kind alone, a few distinct requests in a row, for its server CPU ms per request.
 *
 * Data: the warehouse `npm run bench:api` prepares in .bench/api-<N>/warehouse (run it first), or `--data DIR` (a
 * warehouse root). Use `--records 1000000 --seconds 15` while developing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { EXAMPLE_QUERIES, exampleContext } from '../src/graphql/graphiql-tabs.ts';
import type { Manifest } from '../src/store/layout.ts';
import { newestFlowDate } from '../src/questions/partition-reader.ts';
import { startServeChild } from './serve-child.ts';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '10000000' },
    clients: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '60' },
    data: { type: 'string' },
    'result-cache-mb': { type: 'string' },
    distinct: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
  },
});
const N = Number(values.records);
/** Every request different (its window starts a unique number of seconds later): no answer can be reused. */
const DISTINCT = values.distinct;
const CLIENTS = Number(values.clients);
const SECONDS = Number(values.seconds);
const root = values.data ? resolve(values.data) : join(process.cwd(), '.bench', `api-${N}`, 'warehouse');
const manifestPath = join(root, '_flowql', 'manifest.json');
if (!existsSync(manifestPath)) {
  console.error(
    `no warehouse at ${root}: run \`npm run bench:api -- --records ${N}\` first (it prepares .bench/api-${N}), or pass --data DIR`,
  );
  process.exit(1);
}
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;

interface Request {
  readonly kind: string;
  readonly path: string;
  readonly body?: string;
}

/** The n-th request of a kind (the same every time unless --distinct). */
type RequestKind = { readonly kind: string; readonly make: (n: number) => Request };

async function busiestInstance(url: string, from: string, to: string): Promise<string | null> {
  const res = await fetch(`${url}/datasets/topn.json?from=${from}&to=${to}&by=INSTANCE&metric=RECORDS&limit=1`);
  const rows = (await res.json()) as { instance_id?: string }[];
  return rows[0]?.instance_id ?? null;
}

const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

async function load(url: string, kinds: readonly RequestKind[], seconds: number) {
  const samples = new Map<string, number[]>();
  const errors = new Map<string, number>();
  const until = performance.now() + seconds * 1000;
  let next = 0;
  const client = async () => {
    while (performance.now() < until) {
      const n = next++;
      const r = kinds[n % kinds.length]!.make(Math.floor(n / kinds.length));
      const started = performance.now();
      try {
        // A request that never answers counts as an error instead of stalling its client.
        const signal = AbortSignal.timeout(30_000);
        const init: RequestInit = r.body
          ? { method: 'POST', headers: { 'content-type': 'application/json' }, body: r.body, signal }
          : { signal };
        const res = await fetch(`${url}${r.path}`, init);
        const text = await res.text();
        const failed =
          !res.ok || (r.body !== undefined && (JSON.parse(text) as { errors?: unknown[] }).errors !== undefined);
        if (failed) errors.set(r.kind, (errors.get(r.kind) ?? 0) + 1);
      } catch {
        errors.set(r.kind, (errors.get(r.kind) ?? 0) + 1);
      }
      const list = samples.get(r.kind) ?? [];
      list.push(performance.now() - started);
      samples.set(r.kind, list);
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  const all = [...samples.values()].flat().sort((a, b) => a - b);
  return { samples, errors, all, throughput: all.length / seconds };
}

const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

const cache = values['result-cache-mb'] === undefined ? [] : ['--result-cache-mb', values['result-cache-mb']];
/**
 * Per statement name, from the server's log lines while `counting` is on: runs, execution ms and queued ms of those
 * that answered (`query`), and of those stopped while running because their request had run out of time or been
 * answered (`query interrupted`): work thrown away.
 */
const statements = new Map<string, { n: number; ms: number; queuedMs: number; stopped: number; stoppedMs: number }>();
let counting = false;
const server = await startServeChild(root, cache, (entry) => {
  const stopped = entry.msg === 'query interrupted';
  if (!counting || !(entry.msg === 'query' || stopped) || typeof entry.statement !== 'string') return;
  const s = statements.get(entry.statement) ?? { n: 0, ms: 0, queuedMs: 0, stopped: 0, stoppedMs: 0 };
  const queued = Number(entry.queuedMs ?? 0);
  const ms = Number(entry.ms) - queued;
  statements.set(
    entry.statement,
    stopped
      ? { ...s, stopped: s.stopped + 1, stoppedMs: s.stoppedMs + ms }
      : { ...s, n: s.n + 1, ms: s.ms + ms, queuedMs: s.queuedMs + queued },
  );
});
const { url } = server;
try {
  const ctx = exampleContext(newestFlowDate(manifest), null);
  const example = exampleContext(newestFlowDate(manifest), await busiestInstance(url, ctx.from, ctx.to));
  // --distinct: the n-th request of a kind starts its window n seconds later (wrapping within the first hour).
  const shifted = (n: number) => {
    const from = new Date(Date.parse(example.from) + (DISTINCT ? (n % 3600) * 1000 : 0)).toISOString();
    return { ...example, from, window: `from=${from}&to=${example.to}` };
  };
  const requests: RequestKind[] = [
    ...EXAMPLE_QUERIES.map((e) => ({
      kind: `graphql ${e.name}`,
      make: (n: number) => ({
        kind: `graphql ${e.name}`,
        path: '/graphql',
        body: JSON.stringify({ query: e.query(shifted(n)) }),
      }),
    })),
    ...[
      ['dataset summary.csv', 'summary.csv?'],
      ['dataset topn.csv', 'topn.csv?by=DST_PORT&limit=20&'],
      ['dataset timeseries.csv', 'timeseries.csv?interval=FIFTEEN_MINUTES&'],
      ['dataset flows.csv (1000 rows)', `flows.csv?instanceId=${example.instanceId}&limit=1000&`],
    ].map(([kind, path]) => ({
      kind: kind!,
      make: (n: number) => ({ kind: kind!, path: `/datasets/${path}${shifted(n).window}` }),
    })),
  ];
  const cacheNote =
    values['result-cache-mb'] === undefined ? 'default result cache' : `--result-cache-mb ${values['result-cache-mb']}`;
  console.log(
    `load: ${CLIENTS} clients, ${SECONDS} s, ${manifest.ingest.records} records in ${root}; ${requests.length} request kinds, ${DISTINCT ? 'every request distinct' : 'repeated requests'}, ${cacheNote}`,
  );
  const health: RequestKind = { kind: 'GET /health', make: () => ({ kind: 'GET /health', path: '/health' }) };
  const baseline = await load(url, [health], Math.max(5, SECONDS / 6));
  if (values.profile) {
    // Each kind alone: distinct requests numbered past the run's (none repeats one the run sends).
    console.log('\nprofile (each kind alone, 5 requests in a row)   server CPU ms/request   wall ms p50');
    const profile: [string, number, number][] = [];
    for (const kind of requests) {
      const cpu: number[] = [];
      const wall: number[] = [];
      for (let i = 0; i < 5; i++) {
        const r = kind.make(100_000 + i);
        const [c0, t0] = [server.cpuMs(), performance.now()];
        const res = await fetch(
          `${url}${r.path}`,
          r.body ? { method: 'POST', headers: { 'content-type': 'application/json' }, body: r.body } : {},
        );
        await res.text();
        wall.push(performance.now() - t0);
        cpu.push(server.cpuMs() - c0);
      }
      profile.push([kind.kind, cpu.reduce((a, b) => a + b, 0) / cpu.length, [...wall].sort((a, b) => a - b)[2]!]);
    }
    for (const [kind, cpu, wall] of profile.sort((a, b) => b[1] - a[1]))
      console.log(`${kind.padEnd(48)} ${cpu.toFixed(0).padStart(10)}   ${wall.toFixed(0).padStart(16)}`);
    const mean = profile.reduce((a, p) => a + p[1], 0) / profile.length;
    console.log(`${'mean over the kinds (the run mixes them evenly)'.padEnd(48)} ${mean.toFixed(0).padStart(10)}`);
  }
  counting = true;
  const [serverCpu0, clientCpu0] = [server.cpuMs(), process.cpuUsage()];
  const run = await load(url, requests, SECONDS);
  const serverCpu = server.cpuMs() - serverCpu0;
  const clientCpuUsage = process.cpuUsage(clientCpu0);
  const clientCpu = (clientCpuUsage.user + clientCpuUsage.system) / 1000;
  counting = false;
  console.log('\nkind                                   count   p50        p95        p99        errors');
  for (const [kind, list] of run.samples) {
    const s = [...list].sort((a, b) => a - b);
    console.log(
      `${kind.padEnd(38)} ${String(s.length).padStart(6)}   ${fmt(percentile(s, 50)).padEnd(10)} ${fmt(percentile(s, 95)).padEnd(10)} ${fmt(percentile(s, 99)).padEnd(10)} ${run.errors.get(kind) ?? 0}`,
    );
  }
  const errors = [...run.errors.values()].reduce((a, b) => a + b, 0);
  const [p50, p95, p99] = [50, 95, 99].map((p) => percentile(run.all, p));
  const [b50, b95, b99] = [50, 95, 99].map((p) => percentile(baseline.all, p));
  console.log(
    `\nmixed load:  ${run.throughput.toFixed(1)} req/s, p50 ${fmt(p50!)}, p95 ${fmt(p95!)}, p99 ${fmt(p99!)}, errors ${errors}`,
  );
  console.log(
    `baseline:    ${baseline.throughput.toFixed(1)} req/s, p50 ${fmt(b50!)}, p95 ${fmt(b95!)}, p99 ${fmt(b99!)} (GET /health, same clients)`,
  );
  console.log(
    `ratio:       throughput ${(run.throughput / baseline.throughput).toFixed(3)}, p99 ${(p99! / b99!).toFixed(1)}x`,
  );
  console.log(
    `targets:     errors 0 -> ${errors === 0 ? 'met' : 'MISSED'}; p99 < 1000 ms -> ${p99! < 1000 ? 'met' : 'MISSED'}`,
  );
  const answered = run.all.length;
  const cores = availableParallelism();
  const perRequest = serverCpu / answered;
  console.log(
    `\nserver CPU:  ${(serverCpu / 1000).toFixed(1)} s over ${SECONDS} s (${(serverCpu / 10 / SECONDS).toFixed(0)}% of one core; ${cores} cores), ` +
      `${perRequest.toFixed(1)} ms per request (${(serverCpu / Math.max(1, answered - errors)).toFixed(1)} ms per answer without error: a request that times out early spends less); this process (the ${CLIENTS} clients): ${(clientCpu / 1000).toFixed(1)} s, ${(clientCpu / answered).toFixed(1)} ms per request; server peak RSS ${(server.peakRss() / 2 ** 30).toFixed(2)} GiB`,
  );
  console.log(
    `floor:       ${CLIENTS} closed-loop clients x ${perRequest.toFixed(1)} ms CPU / ${cores} cores = mean latency >= ${fmt((CLIENTS * perRequest) / cores)} ` +
      `(measured mean ${fmt(run.all.reduce((a, b) => a + b, 0) / answered)}); a mean under 1 s needs <= ${((1000 * cores) / CLIENTS).toFixed(0)} ms CPU per request`,
  );
  console.log(
    '\nstatement (server log)                       runs   exec ms mean   queued ms mean   exec s total   stopped   stopped exec s',
  );
  const mean = (total: number, n: number) => (n ? (total / n).toFixed(0) : '-');
  for (const [name, s] of [...statements]
    .sort((a, b) => b[1].ms + b[1].stoppedMs - a[1].ms - a[1].stoppedMs)
    .slice(0, 15))
    console.log(
      `${name.padEnd(44)} ${String(s.n).padStart(6)}   ${mean(s.ms, s.n).padStart(12)}   ${mean(s.queuedMs, s.n).padStart(14)}   ${(s.ms / 1000).toFixed(1).padStart(12)}   ${String(s.stopped).padStart(7)}   ${(s.stoppedMs / 1000).toFixed(1).padStart(14)}`,
    );
  const all = [...statements.values()];
  const [ran, stopped] = [all.reduce((a, s) => a + s.ms, 0), all.reduce((a, s) => a + s.stoppedMs, 0)];
  console.log(
    `thrown away: ${(stopped / 1000).toFixed(1)} s of statement execution stopped before it answered (${((100 * stopped) / (ran + stopped || 1)).toFixed(0)}% of all execution time)`,
  );
} finally {
  await server.stop();
}
