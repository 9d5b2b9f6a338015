import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFixtureWarehouse } from '../../helpers/warehouse-fixture.ts';
import { gql, testApi } from '../../helpers/graphql.ts';
import { memoryLogger } from '../../helpers/query-context.ts';
import { AGGREGATE_FIXTURE } from '../../fixtures/aggregate-flows.ts';
import { createWarehouseReader } from '../../../src/store/warehouse-reader.ts';
import {
  EXAMPLE_QUERIES,
  exampleContext,
  exampleTabs,
  graphiqlOptions,
  loadExampleContext,
} from '../../../src/graphql/graphiql-tabs.ts';

let root = '';
let api: Awaited<ReturnType<typeof testApi>>;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'flowql-tabs-'));
  api = await testApi(root);
});
afterAll(async () => {
  api?.db.closeSync();
  await rm(root, { recursive: true, force: true });
});

const deps = () => ({ db: api.db, warehouse: createWarehouseReader(root), log: memoryLogger() });

describe('example context', () => {
  it('falls back to today and a placeholder instance on an empty warehouse', async () => {
    expect(exampleContext(null, null, new Date('2025-01-02T15:00:00Z'))).toEqual({
      from: '2025-01-02T00:00:00.000Z',
      to: '2025-01-03T00:00:00.000Z',
      instanceId: 'i-0123456789abcdef0',
    });
    expect((await loadExampleContext(deps())).instanceId).toBe('i-0123456789abcdef0');
  });

  it('puts variable defaults inside every query (the variables pane may render empty)', () => {
    const tabs = exampleTabs(exampleContext('2024-03-02', 'i-0000000d'));
    expect(tabs.map((t) => t.query.split('\n')[1])).toEqual([
      'query FlowsOfAnInstance(',
      'query TopTalkers(',
      'query RejectedTraffic(',
      'query TrafficOverTime(',
      'query OutliersAndFanOut(',
      'query Coverage(',
      'query Handshakes(',
      'query TrafficEdgesCost(',
      'query ServicesByApp(',
    ]);
    for (const tab of tabs)
      expect(tab.query).toContain(
        '(\n  $from: DateTime = "2024-03-02T00:00:00.000Z"\n  $to: DateTime = "2024-03-03T00:00:00.000Z"\n',
      );
    expect(tabs[0]!.query).toContain('$instanceId: String = "i-0000000d"');
  });
});

describe('examples over data', () => {
  beforeAll(async () => {
    await writeFixtureWarehouse(root, AGGREGATE_FIXTURE);
  });

  it('uses the newest day and its busiest instance, recomputed when the manifest changes', async () => {
    const options = graphiqlOptions(deps());
    const got = await options();
    expect(got.defaultTabs).toHaveLength(EXAMPLE_QUERIES.length);
    expect(got.defaultTabs?.[0]?.query).toContain('$instanceId: String = "i-0000000d"'); // 2024-03-02 holds only eni-0000000d/i-0000000d
    await writeFixtureWarehouse(root, [
      { ...AGGREGATE_FIXTURE[0]!, start_time: '2024-03-04T08:00:00Z', end_time: '2024-03-04T08:00:50Z' },
    ]);
    const after = await options();
    expect(after.defaultTabs?.[0]?.query).toContain('$instanceId: String = "i-0000000a"');
    expect(after.defaultTabs?.[0]?.query).toContain('$from: DateTime = "2024-03-04T00:00:00.000Z"');
  });

  it('runs every example as it is, without errors, and finds data', async () => {
    const ctx = exampleContext('2024-03-02', 'i-0000000d');
    const results = Object.fromEntries(
      await Promise.all(EXAMPLE_QUERIES.map(async (e) => [e.name, await gql(api.yoga, e.query(ctx))] as const)),
    );
    for (const [name, body] of Object.entries(results))
      expect(body.errors, `${name}: ${JSON.stringify(body.errors)}`).toBeUndefined();
    const flows = results.FlowsOfAnInstance!.data as {
      flows: { nodes: { srcAddr: string | null; bytes: string | null }[] };
    };
    expect(flows.flows.nodes.map((n) => [n.srcAddr, n.bytes])).toEqual([
      ['10.1.0.1', '64000'],
      [null, null],
    ]);
    const talkers = results.TopTalkers!.data as { flowTopN: { rows: { label: string; bytes: string }[] } };
    expect(talkers.flowTopN.rows).toEqual([
      { label: '10.1.0.1 -> 10.1.0.2', bytes: '64000', packets: '100', records: '1' },
    ]);
    const series = results.TrafficOverTime!.data as { flowTimeSeries: { series: { label: string }[] } };
    expect(series.flowTimeSeries.series.map((s) => s.label)).toEqual(['222222222222']);
    // 2024-03-02 has one record (#9), logged at eni-0000000d only, without flow-direction: nothing says which of its
    // two private addresses is the interface's, so both ends are UNRESOLVED; the bytes count once.
    const edges = results.TrafficEdgesCost!.data as {
      trafficCost: { bytes: string; crossAzBytes: string };
      trafficEdges: {
        nodes: {
          client: { kind: string; id: string };
          server: { kind: string; id: string };
          serverPort: number;
          bytesToServer: string;
        }[];
      };
    };
    expect(edges.trafficCost).toMatchObject({ bytes: '64000', crossAzBytes: '0' });
    expect(
      edges.trafficEdges.nodes.map((e) => [
        e.client.kind,
        e.client.id,
        e.server.kind,
        e.server.id,
        e.serverPort,
        e.bytesToServer,
      ]),
    ).toEqual([['UNRESOLVED', '10.1.0.1', 'UNRESOLVED', '10.1.0.2', 5432, '64000']]);
    const hs = results.Handshakes!.data as { handshakes: { nodes: unknown[] } };
    expect(hs.handshakes.nodes).toEqual([]); // the fixture has no tcp-flags
  });
});
