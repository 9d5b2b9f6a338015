/**
 * Operations endpoints over a real port: /health, /ready (warehouse readable, manifest present and parseable, ledger
 * schema current), /metrics counters that move with traffic, structured request logs.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/main.ts';
import { warehousePaths } from '../../src/store/layout.ts';
import { KEY_A, KEY_OPS, serveTenantFixture, startTestServer, type LogLines } from '../helpers/tenant-fixture.ts';

let server: RunningServer;
let lines: LogLines;

serveTenantFixture((f) => ({ server, lines } = f));

const metricsText = async () =>
  (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${KEY_OPS}` } })).text();
const sample = (text: string, series: string): number => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
};

describe('/health and /ready', () => {
  it('are answered without a key', async () => {
    const health = await fetch(`${server.url}/health`);
    expect([health.status, await health.json()]).toEqual([200, { status: 'ok' }]);
    const ready = await fetch(`${server.url}/ready`);
    const body = (await ready.json()) as { status: string; checks: { name: string; ok: boolean; detail: string }[] };
    expect([ready.status, body.status]).toEqual([200, 'ready']);
    expect(body.checks.map((c) => [c.name, c.ok])).toEqual([
      ['warehouse', true],
      ['manifest', true],
      ['files', true],
      ['ledger', true],
    ]);
    expect(body.checks[1]!.detail).toBe('generation 1, 2 files');
    expect(body.checks[2]!.detail).toBe('2 files present');
  });

  it('show the warehouse path only to an operator key when keys are configured', async () => {
    const root = lines.find((l) => l.msg === 'flowql API listening')!.warehouse as string;
    const anonymous = await (await fetch(`${server.url}/ready`)).text();
    expect(anonymous).not.toContain(root);
    expect(JSON.parse(anonymous).checks[0]).toEqual({ name: 'warehouse', ok: true, detail: '<data> is readable' });
    const tenant = await (await fetch(`${server.url}/ready`, { headers: { 'x-api-key': KEY_A } })).text();
    expect(tenant).not.toContain(root);
    const operator = (await (await fetch(`${server.url}/ready`, { headers: { 'x-api-key': KEY_OPS } })).json()) as {
      checks: { detail: string }[];
    };
    expect(operator.checks[0]!.detail).toBe(`${root} is readable`);
  });

  it('fails when the warehouse is missing, the manifest is absent or broken, or the ledger schema is old', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'flowql-ready-'));
    const other = await startTestServer({ dataDir: join(empty, 'wh') });
    try {
      const check = async () => {
        const r = await fetch(`${other.server.url}/ready`);
        const body = (await r.json()) as { status: string; checks: { name: string; ok: boolean; detail: string }[] };
        return { status: r.status, failed: body.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`) };
      };
      const wh = join(empty, 'wh');
      await rm(wh, { recursive: true, force: true });
      expect(await check()).toEqual({
        status: 503,
        failed: [
          `warehouse: ${wh} is missing or not readable`,
          `manifest: ${wh} does not exist: create it with \`flowql ingest SOURCE --data ${wh}\` (or \`flowql serve --demo\` for demo data)`,
        ],
      });
      await mkdir(warehousePaths(wh).meta, { recursive: true });
      expect((await check()).failed).toEqual([
        `manifest: ${warehousePaths(wh).manifest} does not exist yet: run flowql ingest`,
      ]);
      await writeFile(warehousePaths(wh).manifest, '{"formatVersion": 1, "files": ');
      expect((await check()).failed[0]).toMatch(/^manifest: .*manifest\.json: not JSON/);
      await writeFile(
        warehousePaths(wh).manifest,
        JSON.stringify({ formatVersion: 1, generation: 3, updatedAt: '', files: [], ingest: {} }),
      );
      expect(await check()).toEqual({ status: 200, failed: [] });
      const ledger = await DuckDBInstance.create(warehousePaths(wh).ledger);
      const c = await ledger.connect();
      await c.run('CREATE TABLE schema_migrations (version INTEGER, name VARCHAR, applied_at TIMESTAMP)');
      c.closeSync();
      ledger.closeSync();
      expect(await check()).toEqual({
        status: 503,
        failed: ['ledger: schema version 0 is older than 2: run flowql ingest to migrate it'],
      });
    } finally {
      await other.server.close();
      await rm(empty, { recursive: true, force: true });
    }
  });
});

describe('/metrics', () => {
  it('needs a key with the metrics scope, and its counters move with requests', async () => {
    const before = await metricsText();
    await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': KEY_A },
      body: JSON.stringify({
        query:
          'query TopTalkers { flowSummary(filter: { timeRange: { from: "2024-05-01", to: "2024-05-02" } }) { records } }',
      }),
    });
    await fetch(`${server.url}/datasets/summary.csv?from=2024-05-01&to=2024-05-02`, {
      headers: { 'x-api-key': KEY_A },
    });
    await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    const after = await metricsText();
    const delta = (series: string) => sample(after, series) - sample(before, series);
    expect(delta('flowql_http_requests_total{method="POST",route="/graphql",status="200"}')).toBe(1);
    expect(delta('flowql_http_requests_total{method="GET",route="/datasets",status="200"}')).toBe(1);
    expect(delta('flowql_graphql_operations_total{operation="TopTalkers",outcome="ok"}')).toBe(1);
    expect(delta('flowql_graphql_operation_duration_seconds_count{operation="TopTalkers"}')).toBe(1);
    expect(delta('flowql_duckdb_queries_total{outcome="ok",statement="flows.summary"}')).toBe(1);
    expect(delta('flowql_duckdb_queries_total{outcome="ok",statement="datasets.summary.csv"}')).toBe(1);
    expect(delta('flowql_dataset_exports_total{dataset="summary",format="csv"}')).toBe(1);
    expect(delta('flowql_auth_failures_total{status="401"}')).toBe(1);
    expect(sample(after, 'flowql_manifest_generation')).toBe(1);
    expect(sample(after, 'flowql_warehouse_files')).toBe(2);
    expect(after).toContain('# TYPE flowql_ingest_rejects gauge');
    expect(sample(after, 'flowql_http_requests_in_flight')).toBe(1);
  });

  it('logs one JSON line per request with route, status, tenant and time', () => {
    const line = lines.find((l) => l.msg === 'request' && l.route === '/datasets' && l.status === 200);
    expect(line).toMatchObject({ method: 'GET', path: '/datasets/summary.csv', tenant: 'tenant-a' });
    expect(typeof line?.ms).toBe('number');
    expect(lines.find((l) => l.msg === 'graphql operation' && l.operation === 'TopTalkers')).toMatchObject({
      outcome: 'ok',
      errors: 0,
    });
  });
});
