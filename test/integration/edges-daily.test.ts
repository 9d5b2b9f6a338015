// edges_daily / org_edges_daily, the daily rollups of edge rows, against the hourly rows they sum. Fixture: the
// generator (6000 records over three days, seed 11: several accounts and regions, so both the account and the org
// tables exist) ingested with derivation, then `flowql compact`, which writes a daily file per closed partition-day of
// each edge table. Every edge question shape (pages at every level but TAG and every order, totals, cost groups, the
// diff) is run over what connectionSource picks with daily rows allowed and over the hourly rows alone, on windows of
// whole days, cut inside days and across midnight; the rows must be identical. Then what the daily rows cannot answer
// (the TAG level, a tag filter) reads hourly rows, extensions.cost names the tables read, and a late delivery retires
// its day's daily files in its own commit until compaction writes them back.
import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { connectionRelationSql } from '../../src/analytics/connection-filter-query.ts';
import { connectionSource } from '../../src/analytics/connection-source.ts';
import { costGroupQuery } from '../../src/analytics/cost-query.ts';
import { edgeDiffQuery } from '../../src/analytics/edge-diff-query.ts';
import { EDGE_MEASURES, edgeQuery, edgeTotalsQuery } from '../../src/analytics/edge-query.ts';
import { EDGE_GROUP_COLUMNS } from '../../src/analytics/edge-rows-query.ts';
import { COST_GROUPS, COST_ORDERS, EDGE_LEVELS, EDGE_ORDERS } from '../../src/domain/connection-enums.ts';
import type { FlowFilter } from '../../src/domain/flow-filter.ts';
import { runCompact } from '../../src/ingest/ingest-compact.ts';
import { runIngest } from '../../src/ingest/ingest-run.ts';
import { createLocalWarehouseStorage } from '../../src/ingest/local-warehouse-storage.ts';
import { partitionKey, underivedPartitions, type Manifest, type ManifestFile } from '../../src/store/layout.ts';
import { runQuery } from '../../src/store/query-runner.ts';
import { build, raw, sql, type SqlFragment, type SqlQuery } from '../../src/store/sql.ts';
import {
  AFTER,
  DAY1,
  DAY2,
  DAY3,
  filterOf,
  ingestedRollupFixture,
  manifestOf,
  rowsOf,
} from '../helpers/rollup-fixture.ts';
import { gql, testApi } from '../helpers/graphql.ts';
import { testQueryContext } from '../helpers/query-context.ts';
import { startTestServer } from '../helpers/tenant-fixture.ts';

let root = '';
let data = '';

/** `shape` over the rows connectionSource picks with daily rows allowed and over hourly rows only. */
async function bothWays(filter: FlowFilter, shape: (rows: SqlFragment) => SqlQuery) {
  const ctx = await testQueryContext(data);
  const files = (await ctx.warehouse.manifest()).files;
  const rows = (daily: boolean) => {
    const source = connectionSource(files, filter, 'edges', (f) => ctx.warehouse.absolutePath(f), { daily });
    return {
      rows: connectionRelationSql(source.rows, filter, 'edges'),
      tables: [...new Set(source.files.map((f) => f.table))].sort(),
    };
  };
  const [withDaily, hourlyOnly] = [rows(true), rows(false)];
  return {
    fromDaily: await runQuery(ctx, shape(withDaily.rows)),
    fromHourly: await runQuery(ctx, shape(hourlyOnly.rows)),
    tables: withDaily.tables,
  };
}

beforeAll(async () => {
  const fixture = await ingestedRollupFixture('flowql-edges-daily-');
  ({ root, data } = fixture);
  const { storage } = fixture;
  await runCompact({ storage, threads: 1 });
}, 180_000);

describe('edges_daily and org_edges_daily', () => {
  it('have one file per partition of their hourly table, the same columns, and fewer rows', async () => {
    const m = await manifestOf(data);
    expect(underivedPartitions(m.files)).toEqual([]);
    for (const [daily, hourly] of [
      ['edges_daily', 'edges'],
      ['org_edges_daily', 'org_edges'],
    ] as const) {
      const parts = (t: string) => [...new Set(m.files.filter((f) => f.table === t).map(partitionKey))].sort();
      expect(parts(daily).length).toBeGreaterThan(0);
      expect(parts(daily)).toEqual(parts(hourly));
      for (const date of [DAY1, DAY2, DAY3]) {
        expect(rowsOf(m.files, daily, date)).toBeGreaterThan(0);
        expect(rowsOf(m.files, daily, date)).toBeLessThan(rowsOf(m.files, hourly, date));
      }
    }
    const ctx = await testQueryContext(data);
    const columns = async (f: ManifestFile) =>
      (
        await runQuery(
          ctx,
          build(
            'describe',
            sql`DESCRIBE SELECT * FROM read_parquet(${ctx.warehouse.absolutePath(f)}, hive_partitioning = false)`,
          ),
        )
      ).map((r) => `${String(r.column_name)} ${String(r.column_type)}`);
    const daily = m.files.find((f) => f.table === 'org_edges_daily')!;
    const hourly = m.files.find((f) => f.table === 'org_edges' && f.date === daily.date && f.region === daily.region)!;
    expect(await columns(daily)).toEqual(await columns(hourly));
    // Every row's bucket is its day's midnight, and the rows are unique on the key columns.
    const file = ctx.warehouse.absolutePath(daily);
    const keys = EDGE_GROUP_COLUMNS.join(', ');
    const [check] = await runQuery(
      ctx,
      build(
        'check',
        sql`SELECT count(*) FILTER (bucket <> ${`${daily.date} 00:00:00`}::TIMESTAMP) AS off_midnight,
                   count(*) - (SELECT count(*) FROM (SELECT DISTINCT ${raw(keys)} FROM read_parquet(${file}, hive_partitioning = false))) AS duplicates
            FROM read_parquet(${file}, hive_partitioning = false)`,
      ),
    );
    expect(check).toEqual({ off_midnight: 0n, duplicates: 0n });
  });
});

/** Windows: whole days (daily rows only), cut inside days (hourly rows at the cut days), across midnight (no whole day). */
const WINDOWS: [string, string, string, string[]][] = [
  ['three whole days', `${DAY1}T00:00:00Z`, `${AFTER}T00:00:00Z`, ['org_edges_daily']],
  ['one whole day', `${DAY2}T00:00:00Z`, `${DAY3}T00:00:00Z`, ['org_edges_daily']],
  ['cut inside the first and last day', `${DAY1}T05:30:00Z`, `${DAY3}T17:00:00Z`, ['org_edges', 'org_edges_daily']],
  ['across midnight, no whole day', `${DAY1}T20:00:00Z`, `${DAY2}T04:00:00Z`, ['org_edges']],
];

const LEVELS = EDGE_LEVELS.filter((l) => l !== 'TAG');

describe('daily rows give the answers of the hourly rows', () => {
  for (const [window, from, to, tables] of WINDOWS) {
    it(`${window}: pages at every level and by every order, totals, cost groups`, async () => {
      const filter = filterOf({}, from, to);
      const shapes: [string, (rows: SqlFragment) => SqlQuery][] = [
        ['totals', (rows) => edgeTotalsQuery(rows)],
        ...[
          ...EDGE_ORDERS.map((orderBy) => ['INSTANCE', orderBy] as const),
          ...LEVELS.map((level) => [level, 'BYTES'] as const),
        ].map(([level, orderBy]): [string, (rows: SqlFragment) => SqlQuery] => [
          `${level} by ${orderBy}`,
          (rows) => edgeQuery({ rows, level, orderBy, limit: 50, offset: 0 }),
        ]),
        ...(['INSTANCE', 'SUBNET'] as const).flatMap((level) =>
          COST_GROUPS.flatMap((groupBy) =>
            COST_ORDERS.map((orderBy): [string, (rows: SqlFragment) => SqlQuery] => [
              `cost ${groupBy} at ${level} by ${orderBy}`,
              (rows) => costGroupQuery({ rows, groupBy, level, orderBy, limit: 50 }),
            ]),
          ),
        ),
      ];
      for (const [name, shape] of shapes) {
        const r = await bothWays(filter, shape);
        expect(r.fromHourly.length, name).toBeGreaterThan(0);
        expect(r.fromDaily, name).toEqual(r.fromHourly);
        expect(r.tables, name).toEqual(tables);
      }
    }, 120_000);
  }

  it('under filters: a port, an address, one account (its own edges_daily), one region', async () => {
    const m = await manifestOf(data);
    const account = m.files.find((f) => f.table === 'flows')!.accountId;
    const region = m.files.find((f) => f.table === 'org_edges')!.region;
    const page = (rows: SqlFragment) =>
      edgeQuery({
        rows,
        level: 'INSTANCE',
        orderBy: 'BYTES',
        limit: 100,
        offset: 0,
        columns: { measures: EDGE_MEASURES, described: true },
      });
    const cases: [Record<string, unknown>, string[]][] = [
      [{ dstPort: [{ from: 443, to: 443 }] }, ['org_edges_daily']],
      [{ addr: ['10.0.0.0/8'] }, ['org_edges_daily']],
      [{ accountIds: [account] }, ['edges_daily']],
      [{ regions: [region] }, ['org_edges_daily']],
    ];
    for (const [input, tables] of cases) {
      const r = await bothWays(filterOf(input, `${DAY1}T00:00:00Z`, `${AFTER}T00:00:00Z`), page);
      expect(r.fromHourly.length, JSON.stringify(input)).toBeGreaterThan(0);
      expect(r.fromDaily, JSON.stringify(input)).toEqual(r.fromHourly);
      expect(r.tables, JSON.stringify(input)).toEqual(tables);
    }
  });

  it('the diff of two windows', async () => {
    const ctx = await testQueryContext(data);
    const files = (await ctx.warehouse.manifest()).files;
    const relation = (filter: FlowFilter, daily: boolean) =>
      connectionRelationSql(
        connectionSource(files, filter, 'edges', (f) => ctx.warehouse.absolutePath(f), { daily }).rows,
        filter,
        'edges',
      );
    const [before, after] = [
      filterOf({}, `${DAY1}T00:00:00Z`, `${DAY2}T00:00:00Z`),
      filterOf({}, `${DAY2}T00:00:00Z`, `${DAY3}T12:00:00Z`),
    ];
    const diff = (daily: boolean) =>
      runQuery(
        ctx,
        edgeDiffQuery({
          before: relation(before, daily),
          after: relation(after, daily),
          level: 'SUBNET',
          minFactor: 1.5,
          limit: 1000,
        }),
      );
    const fromHourly = await diff(false);
    expect(fromHourly.length).toBeGreaterThan(0);
    expect(await diff(true)).toEqual(fromHourly);
  });
});

describe('what daily rows cannot answer reads hourly rows, and extensions.cost says which', () => {
  const window = `timeRange: { from: "${DAY1}T00:00:00Z", to: "${AFTER}T00:00:00Z" }`;
  it('trafficEdges and trafficCost over whole days read org_edges_daily; the TAG level reads org_edges', async () => {
    const { yoga } = await testApi(data);
    const edges = await gql(
      yoga,
      `{ trafficEdges(filter: { ${window} }, level: SUBNET, first: 5) { nodes { bytesToServer } } }`,
    );
    expect(edges.errors).toBeUndefined();
    expect(edges.extensions?.cost?.tiers).toEqual(['org_edges_daily']);
    const m = await manifestOf(data);
    expect(edges.extensions?.cost?.rowsScanned).toBe(
      [DAY1, DAY2, DAY3].reduce((n, d) => n + rowsOf(m.files, 'org_edges_daily', d), 0),
    );
    const cost = await gql(yoga, `{ trafficCost(filter: { ${window} }) { bytes } }`);
    expect(cost.errors).toBeUndefined();
    expect(cost.extensions?.cost?.tiers).toEqual(['org_edges_daily']);
    const byTag = await gql(
      yoga,
      `{ trafficEdges(filter: { ${window} }, level: TAG, tagKey: "app", first: 5) { nodes { bytesToServer } } }`,
    );
    expect(byTag.errors).toBeUndefined();
    expect(byTag.extensions?.cost?.tiers).toEqual(['org_edges']);
    const handshakes = await gql(yoga, `{ handshakes(filter: { ${window} }, first: 1) { nodes { start } } }`);
    expect(handshakes.extensions?.cost?.tiers).toEqual(['org_handshakes']);
  });
});

describe('a late delivery', () => {
  it("retires its day's daily edge files in its own commit; compaction writes them back with the new rows", async () => {
    // A copy of the warehouse without one object of DAY2, which is then delivered late.
    const late = join(root, 'late');
    const gen = join(root, 'gen', 'AWSLogs');
    const objects = (await readdir(gen, { recursive: true })).filter((p) => /\.log\.(gz|parquet)$/.test(p));
    // An object of DAY2's noon: the hours it changes (with their context) stay inside DAY2.
    const held = objects.find((p) => p.includes(`${DAY2.replaceAll('-', '')}T12`))!;
    const firstPass = join(root, 'first-pass');
    for (const p of objects.filter((o) => o !== held)) {
      await mkdir(join(firstPass, p, '..'), { recursive: true });
      await copyFile(join(gen, p), join(firstPass, p));
    }
    const storage = await createLocalWarehouseStorage(late);
    await runIngest({ sources: [firstPass], storage, threads: 1 });
    await runCompact({ storage, threads: 1 });
    const before = await manifestOf(late);
    const dailyOf = (m: Manifest, date: string) =>
      m.files.filter((f) => (f.table === 'edges_daily' || f.table === 'org_edges_daily') && f.date === date);
    expect(dailyOf(before, DAY2).length).toBeGreaterThan(0);
    await mkdir(join(firstPass, held, '..'), { recursive: true });
    await copyFile(join(gen, held), join(firstPass, held));
    await runIngest({ sources: [firstPass], storage, threads: 1 });
    const after = await manifestOf(late);
    // The late object's account lost DAY2's edges_daily files, the org DAY2's org_edges_daily files; a daily file is
    // left only where its hourly rows did not change. (The day holds records without flow-direction, so its
    // connection rows are derived whole, and their context reaches the last and first hour of the days around it,
    // whose merged hour files are retired and their other hours' rows carried over.)
    const heldAccount = /(\d{12})_vpcflowlogs/.exec(held)![1]!;
    expect(dailyOf(after, DAY2).filter((f) => f.table === 'org_edges_daily' || f.accountId === heldAccount)).toEqual(
      [],
    );
    const hourlyOf = (m: Manifest, f: ManifestFile) =>
      m.files
        .filter(
          (h) => h.table === (f.table === 'edges_daily' ? 'edges' : 'org_edges') && partitionKey(h) === partitionKey(f),
        )
        .map((h) => h.path)
        .sort();
    const kept = [DAY1, DAY2, DAY3].flatMap((d) => dailyOf(after, d));
    for (const f of kept) expect(hourlyOf(after, f), f.path).toEqual(hourlyOf(before, f));
    // Questions over the whole window read hourly rows for DAY2 and answer as the full warehouse does.
    const ask = async (dir: string) => {
      const { yoga } = await testApi(dir);
      const res = await gql<{ trafficEdges: { nodes: unknown[] } }>(
        yoga,
        `{ trafficEdges(filter: { timeRange: { from: "${DAY1}T00:00:00Z", to: "${AFTER}T00:00:00Z" } }, level: INSTANCE, first: 100) {
            nodes { client { id } server { id } protocol serverPort bytesToServer bytesToClient connections records } } }`,
      );
      expect(res.errors).toBeUndefined();
      return { nodes: res.data!.trafficEdges.nodes, tiers: res.extensions?.cost?.tiers };
    };
    const full = await ask(data);
    const partly = await ask(late);
    expect(partly.tiers).toEqual(
      kept.some((f) => f.table === 'org_edges_daily') ? ['org_edges', 'org_edges_daily'] : ['org_edges'],
    );
    expect(partly.nodes).toEqual(full.nodes);
    await runCompact({ storage, threads: 1 });
    const again = await ask(late);
    expect(again.tiers).toEqual(['org_edges_daily']);
    expect(again.nodes).toEqual(full.nodes);
  }, 120_000);
});

describe("long windows: the tiers' bound for edge questions daily rows answer, the records' bound for the rest", () => {
  // 200 days ending after the fixture's last day; the test API has the production bounds (31 and 400 days).
  const from = new Date(Date.parse(`${AFTER}T00:00:00Z`) - 200 * 86_400_000).toISOString();
  const window = `timeRange: { from: "${from}", to: "${AFTER}T00:00:00Z" }`;
  const threeDays = `timeRange: { from: "${DAY1}T00:00:00Z", to: "${AFTER}T00:00:00Z" }`;
  type Err = { message: string; extensions?: { code?: string } };
  const edges = (range: string, extra = '') =>
    `{ trafficEdges(filter: { ${range} }${extra}, level: INSTANCE, first: 20) { nodes { client { id } server { id } serverPort bytesToServer connections } } }`;

  it('a 200-day trafficEdges, trafficCost and edges.csv read the daily rows and answer as the three days do', async () => {
    const { yoga } = await testApi(data);
    const long = await gql(yoga, edges(window));
    expect(long.errors).toBeUndefined();
    expect(long.extensions?.cost?.tiers).toEqual(['org_edges_daily']);
    expect(long.data).toEqual((await gql(yoga, edges(threeDays))).data);
    const cost = await gql(yoga, `{ trafficCost(filter: { ${window} }) { bytes crossAzBytes } }`);
    expect(cost.errors).toBeUndefined();
    expect(cost.data).toEqual(
      (await gql(yoga, `{ trafficCost(filter: { ${threeDays} }) { bytes crossAzBytes } }`)).data,
    );
    const { server } = await startTestServer({ dataDir: data });
    try {
      const csv = await fetch(`${server.url}/datasets/edges.csv?from=${from}&to=${AFTER}T00:00:00Z&limit=5`);
      expect(csv.status).toBe(200);
      expect(JSON.parse(csv.headers.get('x-flowql-cost') ?? '{}').tiers).toEqual(['org_edges_daily']);
      expect((await csv.text()).trim().split('\n')).toHaveLength(6);
    } finally {
      await server.close();
    }
  });

  it('the TAG level, edgeDiff and handshakes over 200 days are refused, naming --max-range-days and why', async () => {
    const { yoga } = await testApi(data);
    const refused = async (query: string) => {
      const res = await gql(yoga, query);
      expect(res.errors).toHaveLength(1);
      const e = res.errors![0] as Err;
      expect(e.extensions?.code).toBe('BAD_USER_INPUT');
      expect(res.extensions?.cost?.filesScanned).toBe(0);
      return e.message;
    };
    expect(
      await refused(
        `{ trafficEdges(filter: { ${window} }, level: TAG, tagKey: "app", first: 5) { nodes { bytesToServer } } }`,
      ),
    ).toMatch(
      /at most 31 days \(the server's --max-range-days, FLOWQL_MAX_RANGE_DAYS\) for this question: it reads hourly edge rows because the TAG level and the tag filter/,
    );
    // A long window before the data reads nothing and is let through.
    const before = await gql(
      yoga,
      `{ trafficEdges(filter: { timeRange: { from: "2023-01-01T00:00:00Z", to: "2023-07-01T00:00:00Z" } }, level: TAG, tagKey: "app", first: 5) { nodes { bytesToServer } } }`,
    );
    expect(before.errors).toBeUndefined();
    expect(before.data).toEqual({ trafficEdges: { nodes: [] } });
    expect(await refused(`{ handshakes(filter: { ${window} }, first: 1) { nodes { start } } }`)).toMatch(
      /at most 31 days \(the server's --max-range-days/,
    );
  });
});
