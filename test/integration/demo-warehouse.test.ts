import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { demoStartDate, ensureDemoWarehouse } from '../../src/demo/ensure-demo-warehouse.ts';
import type { Manifest } from '../../src/store/layout.ts';
import { gqlData, testApi } from '../helpers/graphql.ts';

const quietStream = () =>
  Object.assign(new Writable({ write: (_c, _e, cb) => cb() }), { isTTY: false }) as unknown as NodeJS.WriteStream;

describe('demo start date', () => {
  it('ends the window yesterday (UTC)', () => {
    expect(demoStartDate(new Date('2025-03-01T23:59:00Z'), 1)).toBe('2025-02-28');
    expect(demoStartDate(new Date('2025-03-01T00:00:00Z'), 2)).toBe('2025-02-27');
  });
});

describe('ensureDemoWarehouse (real generator and ingester)', () => {
  let root = '';
  const lines: string[] = [];
  const log = { info: (_o: object, msg: string) => void lines.push(msg) };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'flowql-demo-test-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('generates and ingests into an empty warehouse, then leaves it alone', async () => {
    const now = new Date('2025-03-02T12:00:00Z');
    const filled = await ensureDemoWarehouse(root, { log, records: 2000, days: 1, now, progress: quietStream() });
    expect(filled).toBe(true);
    const manifest = JSON.parse(await readFile(join(root, '_flowql', 'manifest.json'), 'utf8')) as Manifest;
    const flows = manifest.files.filter((f) => f.table === 'flows');
    expect(flows.reduce((n, f) => n + f.rows, 0)).toBe(2000);
    expect(manifest.ingest.records).toBe(2000);
    expect(manifest.ingest.rejects).toBe(0);
    expect([...new Set(flows.map((f) => f.date))]).toEqual(['2025-03-01']);
    // The derived tables are there for every flows partition (a file per hour), so the example tabs never pair raw
    // records.
    for (const table of ['handshakes', 'edges'] as const) {
      const derived = new Set(
        manifest.files.filter((f) => f.table === table).map((f) => `${f.accountId}/${f.region}/${f.date}`),
      );
      expect([...derived].sort()).toEqual(flows.map((f) => `${f.accountId}/${f.region}/${f.date}`).sort());
    }
    expect(lines).toEqual(
      expect.arrayContaining([
        'demo: generating flow logs',
        'demo: generated',
        'demo: ingested',
        'demo: imported inventory',
      ]),
    );
    // The generated estate's inventory as cron would have taken it: at the window's start, and at noon, when the
    // estate replaces two batch instances per account by new ones on the same addresses.
    const snapshots = manifest.references?.filter((r) => r.kind === 'inventory') ?? [];
    expect(snapshots.map((r) => r.createdAt)).toEqual(['2025-03-01T00:00:00.000Z', '2025-03-01T12:00:00.000Z']);
    const holders = async (path: string) => {
      const db = await DuckDBInstance.create(':memory:');
      const rows = (
        await (
          await db.connect()
        ).runAndReadAll(
          `SELECT unnest(private_addresses) AS ip, instance_id FROM read_parquet('${join(root, path)}') WHERE resource_type = 'interface' AND instance_id IS NOT NULL`,
        )
      ).getRowsJS();
      db.closeSync();
      return new Map(rows.map(([ip, id]) => [String(ip), String(id)]));
    };
    const [morning, afternoon] = [await holders(snapshots[0]!.path), await holders(snapshots[1]!.path)];
    const handedOver = [...afternoon].filter(([ip, id]) => morning.has(ip) && morning.get(ip) !== id);
    expect(handedOver.length).toBeGreaterThanOrEqual(2);
    const api = await testApi(root);
    try {
      type End = { instanceId: string | null; name: string | null };
      const data = await gqlData<{ trafficEdges: { nodes: { client: End; server: End }[] } }>(
        api.yoga,
        `{ trafficEdges(filter: { timeRange: { from: "2025-03-01T00:00:00Z", to: "2025-03-02T00:00:00Z" } }) {
            nodes { client { instanceId name } server { instanceId name } } } }`,
      );
      const named = data.trafficEdges.nodes.filter((e) => e.client.instanceId !== null && e.server.instanceId !== null);
      expect(named.length).toBeGreaterThan(0);
      for (const e of named) {
        expect(e.client.name, e.client.instanceId!).toMatch(/^[a-z][a-z0-9-]+$/);
        expect(e.server.name, e.server.instanceId!).toMatch(/^[a-z][a-z0-9-]+$/);
      }
    } finally {
      api.db.closeSync();
    }

    lines.length = 0;
    expect(await ensureDemoWarehouse(root, { log, records: 2000, now, progress: quietStream() })).toBe(false);
    expect(lines).toEqual(['demo: warehouse already holds flows; not generating']);
    const again = JSON.parse(await readFile(join(root, '_flowql', 'manifest.json'), 'utf8')) as Manifest;
    expect(again.generation).toBe(manifest.generation);
  });
});
