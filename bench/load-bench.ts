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
 * Data: the warehouse `npm run bench:api` prepares in .bench/api-<N>/warehouse (run it first), or `--data DIR` (a
 * warehouse root). Use `--records 1000000 --seconds 15` while developing.
 */
import { existsSync, readFileSync } from 'node:fs';
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
const server = await startServeChild(root, cache);
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
  const run = await load(url, requests, SECONDS);
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
} finally {
  await server.stop();
}
