// The `tag` filter and the TAG edge level against the generator's estate: `generateDataset` (4000 records, one day,
// seed 5) -> ingest with derivation -> its own inventory (describe-instances / describe-network-interfaces written by
// the generator, each instance tagged `app` and `team`) imported as a snapshot -> GraphQL. The expected answers are
// computed from the INSTANCE-level edges (checked against ground-truth.json in analytics-ground-truth.test.ts) and
// the tags the generator gave each instance and interface: service-to-service edges by `app` are exactly the instance
// edges summed by their ends' apps; a `team` filter keeps exactly the edges with an end of that team, and the flow
// records logged by that team's interfaces. A tenant's key sees only its own accounts' tags.
/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies are compared with literal values */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { scopeWarehouse } from '../../src/auth/scoped-warehouse.ts';
import { DEMO_REFERENCE_FILES } from '../../src/demo/ensure-demo-warehouse.ts';
import { generateDataset } from '../../src/generator/generate-dataset.ts';
import {
  describeInstances,
  describeNetworkInterfaces,
  describeSubnets,
  describeVpcs,
} from '../../src/generator/inventory-writer.ts';
import { createPrng } from '../../src/generator/prng.ts';
import { buildTopology } from '../../src/generator/topology.ts';
import { createLocalWarehouseStorage } from '../../src/ingest/local-warehouse-storage.ts';
import { importReference, readAwsIpRanges, readInventory, readOwnNetworks } from '../../src/ingest/reference-import.ts';
import { runIngest } from '../../src/ingest/ingest-run.ts';
import { readyInventorySnapshots } from '../../src/questions/inventory-lookup.ts';
import { resourceNames } from '../../src/questions/resource-name-lookup.ts';
import { tagSpansSql } from '../../src/store/queries/inventory-tag-query.ts';
import { runQuery } from '../../src/store/query-runner.ts';
import { build, sql } from '../../src/store/sql.ts';
import { createWarehouseReader } from '../../src/store/warehouse-reader.ts';
import { gql, gqlData, testApi } from '../helpers/graphql.ts';
import { testQueryContext } from '../helpers/query-context.ts';
import { startTestServer } from '../helpers/tenant-fixture.ts';

const SEED = 5;
const START = '2024-09-05';
const RANGE = `{ from: "${START}T00:00:00Z", to: "2024-09-06T00:00:00Z" }`;

interface End {
  id: string;
  instanceId: string | null;
  interfaceId: string | null;
  accountId: string | null;
}
interface Edge {
  client: End;
  server: End;
  protocol: number;
  serverPort: number | null;
  bytesToServer: string;
  bytesToClient: string;
  connections: string;
}

const edgesQuery = (args: string) => `query($after: String) {
  trafficEdges(${args}, first: 1000, after: $after) {
    nodes { client { id instanceId interfaceId accountId } server { id instanceId interfaceId accountId }
            protocol serverPort bytesToServer bytesToClient connections }
    pageInfo { hasNextPage endCursor } } }`;

type Api = Awaited<ReturnType<typeof testApi>>;

async function allEdges(api: Api, args: string): Promise<Edge[]> {
  const out: Edge[] = [];
  let after: string | null = null;
  do {
    const d: any = await gqlData(api.yoga, edgesQuery(args), { after });
    out.push(...(d.trafficEdges.nodes as Edge[]));
    after = d.trafficEdges.pageInfo.hasNextPage ? d.trafficEdges.pageInfo.endCursor : null;
  } while (after);
  return out;
}

/** Edges as `client>server/protocol/port bytesToServer/bytesToClient connections`, summed by key and sorted. */
function summed(edges: readonly Edge[], idOf: (e: End) => string): string[] {
  const sums = new Map<string, [bigint, bigint, bigint]>();
  for (const e of edges) {
    const key = `${idOf(e.client)}>${idOf(e.server)}/${e.protocol}/${e.serverPort}`;
    const s = sums.get(key) ?? [0n, 0n, 0n];
    sums.set(key, [s[0] + BigInt(e.bytesToServer), s[1] + BigInt(e.bytesToClient), s[2] + BigInt(e.connections)]);
  }
  return [...sums].map(([k, [a, b, c]]) => `${k} ${a}/${b} ${c}`).sort();
}

describe('tag filter and TAG edge level against the generated estate', () => {
  let root: string;
  let api: Api;
  let instanceEdges: Edge[];
  let generatedInstances: string;
  /** Each instance's and interface's tags, as the generator wrote them (an instance's interface: the instance's). */
  const tagsOf = new Map<string, Record<string, string>>();
  /** The account of each instance and interface. */
  const accountOf = new Map<string, string>();
  /** The interfaces holding each private address (an end known only by its address is named by its one holder). */
  const holders = new Map<string, string[]>();
  const hold = (addr: string, eni: string) => holders.set(addr, [...(holders.get(addr) ?? []), eni]);
  const ownerOf = (addr: string): string | undefined => {
    const h = holders.get(addr);
    return h?.length === 1 ? h[0] : undefined;
  };
  /** The account of each Name. */
  const nameAccount = new Map<string, string>();
  const accountOfName = (name: string) => nameAccount.get(name);

  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'flowql-tags-'));
    const generated = await generateDataset({
      outDir: join(dir, 'gen'),
      records: 4000,
      days: 1,
      seed: SEED,
      start: START,
    });
    root = join(dir, 'data');
    const storage = await createLocalWarehouseStorage(root);
    await runIngest({ sources: [join(dir, 'gen', 'AWSLogs')], storage, derive: true });
    await importReference(await readInventory(generated.inventoryPaths, new Date(`${START}T00:00:00Z`)), { storage });
    // The demo's ip-ranges excerpt and networks name some of the estate's peers (AWS services, partner networks).
    await importReference(await readAwsIpRanges(DEMO_REFERENCE_FILES.ip_ranges), { storage });
    await importReference(await readOwnNetworks(DEMO_REFERENCE_FILES.networks), { storage });
    api = await testApi(root);
    generatedInstances = generated.inventoryPaths.find((p) => p.endsWith('describe-instances.json'))!;

    const from = Date.parse(`${START}T00:00:00Z`) / 1000;
    const topo = buildTopology(createPrng(SEED).fork('topology'), from, from + 86_400);
    const tagRecord = (tags: { Key: string; Value: string }[]) => Object.fromEntries(tags.map((t) => [t.Key, t.Value]));
    for (const r of (describeInstances(topo) as any).Reservations) {
      for (const i of r.Instances) {
        tagsOf.set(i.InstanceId, tagRecord(i.Tags));
        nameAccount.set(tagRecord(i.Tags).Name!, r.OwnerId);
        accountOf.set(i.InstanceId, r.OwnerId);
        for (const n of i.NetworkInterfaces) {
          tagsOf.set(n.NetworkInterfaceId, tagRecord(i.Tags));
          accountOf.set(n.NetworkInterfaceId, r.OwnerId);
          hold(n.PrivateIpAddress, n.NetworkInterfaceId);
        }
      }
    }
    // Subnets and VPCs carry the team tag too (describe-subnets / describe-vpcs).
    for (const r of [...(describeSubnets(topo) as any).Subnets, ...(describeVpcs(topo) as any).Vpcs]) {
      tagsOf.set(r.SubnetId ?? r.VpcId, tagRecord(r.Tags));
      accountOf.set(r.SubnetId ?? r.VpcId, r.OwnerId);
      nameAccount.set(tagRecord(r.Tags).Name!, r.OwnerId);
    }
    for (const n of (describeNetworkInterfaces(topo) as any).NetworkInterfaces) {
      tagsOf.set(n.NetworkInterfaceId, tagRecord(n.TagSet));
      nameAccount.set(tagRecord(n.TagSet).Name!, n.OwnerId);
      accountOf.set(n.NetworkInterfaceId, n.OwnerId);
      hold(n.PrivateIpAddress, n.NetworkInterfaceId);
    }
    // An address's account is its holder's (the spans of a tenant hold its own interfaces' addresses only).
    for (const addr of holders.keys()) if (ownerOf(addr)) accountOf.set(addr, accountOf.get(ownerOf(addr)!)!);
    instanceEdges = await allEdges(api, `filter: { timeRange: ${RANGE} }, level: INSTANCE`);
  }, 300_000);

  /**
   * The tag `key` of an end as the generator tagged it: by instance, else interface, else (an end known only by its
   * address, which is then its INSTANCE-level id) the one interface holding that address.
   */
  const tagOf = (e: End, key: string): string | null =>
    tagsOf.get(e.instanceId ?? e.interfaceId ?? ownerOf(e.id) ?? '')?.[key] ?? null;

  it('groups ends by their app tag: every instance edge summed by its ends apps, untagged ends kept by id', async () => {
    const byApp = await allEdges(api, `filter: { timeRange: ${RANGE} }, level: TAG, tagKey: "app"`);
    const appId = (e: End) => {
      const app = tagOf(e, 'app');
      return app === null ? e.id : `app=${app}`;
    };
    const want = summed(instanceEdges, appId);
    expect(summed(byApp, (e) => e.id)).toEqual(want);
    // Each (client app, server app, protocol, port) is one edge, and service-to-service edges are most of them. Ends
    // known only by a private address (v2 records whose peer logged nothing) join their holder's app.
    expect([byApp.length, instanceEdges.length]).toEqual([221, 374]);
    expect(
      instanceEdges.filter((e) => !e.client.instanceId && !e.client.interfaceId && ownerOf(e.client.id)).length,
    ).toBe(16);
    const both = byApp.filter((e) => e.client.id.startsWith('app=') && e.server.id.startsWith('app='));
    expect(both.length).toBe(99);
    // NAT gateways and endpoints carry `team` but no `app`: they stay interfaces.
    expect(byApp.some((e) => e.server.id.startsWith('eni-') && tagOf(e.server, 'team') === 'platform')).toBe(true);
  }, 120_000);

  it('filters edges by a tag on either end, and flow records by the tag of the interface that logged them', async () => {
    const team = (e: End) => tagOf(e, 'team');
    const payments = await allEdges(
      api,
      `filter: { timeRange: ${RANGE}, tag: { key: "team", values: ["payments", "search"] } }, level: INSTANCE`,
    );
    const want = instanceEdges.filter(
      (e) =>
        ['payments', 'search'].includes(team(e.client) ?? '') || ['payments', 'search'].includes(team(e.server) ?? ''),
    );
    expect(want.length).toBe(72);
    expect(summed(payments, (e) => e.id)).toEqual(summed(want, (e) => e.id));

    // Flow records: those logged by a payments instance (else interface), from an unfiltered breakdown.
    const byInterface: any = await gqlData(
      api.yoga,
      `{ flowBreakdown(filter: { timeRange: ${RANGE} }, dimensions: [INSTANCE, INTERFACE], limit: 1000) {
         rows { key { instanceId interfaceId } records } truncated } }`,
    );
    expect(byInterface.flowBreakdown.truncated).toBe(false);
    const paymentsRecords = byInterface.flowBreakdown.rows
      .filter((r: any) => tagsOf.get(r.key.instanceId ?? r.key.interfaceId ?? '')?.team === 'payments')
      .reduce((a: number, r: any) => a + Number(r.records), 0);
    expect(paymentsRecords).toBe(150);
    const tagged: any = await gqlData(
      api.yoga,
      `{ flowSummary(filter: { timeRange: ${RANGE}, tag: { key: "team", values: ["payments"] } }) { records } }`,
    );
    expect(Number(tagged.flowSummary.records)).toBe(paymentsRecords);
  }, 120_000);

  it('names the subnet and VPC of every end from describe-subnets / describe-vpcs', async () => {
    const d: any = await gqlData(
      api.yoga,
      `{ trafficEdges(filter: { timeRange: ${RANGE} }, first: 1000) {
           nodes { client { subnetId subnetName vpcId vpcName } server { subnetId subnetName vpcId vpcName } } } }`,
    );
    const ends = d.trafficEdges.nodes.flatMap((e: any) => [e.client, e.server]);
    const withIds = ends.filter((e: any) => e.subnetId && e.vpcId);
    expect(withIds.length).toBeGreaterThan(100);
    const nameOf = (id: string) => tagsOf.get(id)?.Name ?? null;
    expect(withIds.map((e: any) => `${e.subnetName} ${e.vpcName}`)).toEqual(
      withIds.map((e: any) => `${nameOf(e.subnetId)} ${nameOf(e.vpcId)}`),
    );
    expect(withIds.every((e: any) => e.subnetName !== null && e.vpcName.endsWith('-vpc'))).toBe(true);
    expect(ends.filter((e: any) => !e.subnetId).every((e: any) => e.subnetName === null)).toBe(true);
  });

  it('groups flow records by INSTANCE_TAG: the records of each logging instance (else interface) summed by its tag', async () => {
    const byEnd: any = await gqlData(
      api.yoga,
      `{ flowBreakdown(filter: { timeRange: ${RANGE} }, dimensions: [INSTANCE, INTERFACE], limit: 1000) {
         rows { key { instanceId interfaceId } records bytes } truncated } }`,
    );
    expect(byEnd.flowBreakdown.truncated).toBe(false);
    const want: Record<string, number> = {};
    for (const r of byEnd.flowBreakdown.rows) {
      const team = String(tagsOf.get(r.key.instanceId ?? r.key.interfaceId ?? '')?.team ?? null);
      want[team] = (want[team] ?? 0) + Number(r.records);
    }
    const res = await gql<any>(
      api.yoga,
      `{ flowBreakdown(filter: { timeRange: ${RANGE} }, dimensions: [INSTANCE_TAG], tagKey: "team", orderBy: RECORDS, limit: 100) {
         rows { key { instanceTag } records } } }`,
    );
    expect(res.errors).toBeUndefined();
    const got = Object.fromEntries(
      res.data.flowBreakdown.rows.map((r: any) => [String(r.key.instanceTag), Number(r.records)]),
    );
    expect(got).toEqual(want);
    expect(got.payments).toBe(150);
    // The tag's time rule reads each record's start: the records, never the rollups.
    expect(res.extensions?.cost?.tiers).toEqual(['flows']);
    // The `tag` filter and the grouping agree.
    const filtered: any = await gqlData(
      api.yoga,
      `{ flowTopN(filter: { timeRange: ${RANGE}, tag: { key: "team", values: ["payments"] } }, by: INSTANCE_TAG, tagKey: "team", metric: RECORDS) {
         rows { label records } } }`,
    );
    expect(filtered.flowTopN.rows).toEqual([{ label: 'payments', records: '150' }]);
    // A series per app, by dataset: byTagKey names the key; the series' records add up to the breakdown's.
    const series: any = await gqlData(
      api.yoga,
      `{ flowTimeSeries(filter: { timeRange: ${RANGE} }, interval: DAY, groupBy: INSTANCE_TAG, tagKey: "team", maxSeries: 50, rankBy: RECORDS) {
         series { key { instanceTag } points { records } } } }`,
    );
    expect(
      Object.fromEntries(
        series.flowTimeSeries.series.map((x: any) => [String(x.key.instanceTag), Number(x.points[0].records)]),
      ),
    ).toEqual(want);
  }, 120_000);

  it('breakdown.json?by=INSTANCE_TAG&byTagKey=team equals GraphQL; a scoped key groups by its own tags only', async () => {
    const keysFile = join(root, '..', 'group-keys.json');
    const mine = [...new Set(accountOf.values())].sort()[0]!;
    const keys = [
      { key: 'ops-key-0000000000000002', accounts: ['*'], name: 'ops' },
      { key: 'tenant-key-0000000000002', accounts: [mine], name: 'tenant' },
    ];
    await writeFile(keysFile, JSON.stringify({ keys }));
    const { server } = await startTestServer({ dataDir: root, apiKeysFile: keysFile });
    try {
      const window = `from=${START}T00:00:00Z&to=2024-09-06T00:00:00Z`;
      const get = (path: string, key: string) =>
        fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
      const query = `{ flowBreakdown(filter: { timeRange: ${RANGE} }, dimensions: [ACCOUNT, INSTANCE_TAG], tagKey: "team", orderBy: RECORDS, limit: 1000) {
         rows { key { accountId instanceTag } records } } }`;
      for (const [key, scope] of [
        [keys[0]!.key, null],
        [keys[1]!.key, [mine]],
      ] as const) {
        const res = await get(
          `/datasets/breakdown.json?${window}&by=ACCOUNT,INSTANCE_TAG&byTagKey=team&metric=RECORDS&values=RECORDS`,
          key,
        );
        expect(res.status).toBe(200);
        const rows = ((await res.json()) as any[]).map((o) => `${o.account_id} ${o.instance_tag} ${o.records}`);
        const gqlApi = scope
          ? await testApi(root, {
              scopeAccountIds: scope,
              warehouse: scopeWarehouse(createWarehouseReader(root), scope),
            })
          : api;
        const d = await gqlData<any>(gqlApi.yoga, query);
        expect(rows).toEqual(
          d.flowBreakdown.rows.map((r: any) => `${r.key.accountId} ${r.key.instanceTag} ${r.records}`),
        );
        // A team group holds only records of an account whose resources carry that team.
        for (const r of d.flowBreakdown.rows) {
          if (r.key.instanceTag === null) continue;
          const teamsOfAccount = [...tagsOf]
            .filter(([id]) => accountOf.get(id) === r.key.accountId)
            .map(([, t]) => t.team);
          expect(teamsOfAccount).toContain(r.key.instanceTag);
        }
        if (scope) expect(d.flowBreakdown.rows.every((r: any) => r.key.accountId === mine)).toBe(true);
      }
      const missing = await get(`/datasets/topn.csv?${window}&by=INSTANCE_TAG`, keys[0]!.key);
      expect(missing.status).toBe(400);
      expect(await missing.json()).toMatchObject({ error: { code: 'BAD_USER_INPUT', argument: 'byTagKey' } });
    } finally {
      await server.close();
    }
  }, 120_000);

  it('refuses INSTANCE_TAG without tagKey, and a tagKey without INSTANCE_TAG, naming the argument', async () => {
    const noKey = await gql(
      api.yoga,
      `{ flowTopN(filter: { timeRange: ${RANGE} }, by: INSTANCE_TAG) { rows { label } } }`,
    );
    expect(noKey.errors?.[0]).toMatchObject({
      message: 'Invalid tagKey: expected a tag key with INSTANCE_TAG (such as "app")',
      extensions: { code: 'BAD_USER_INPUT', argument: 'tagKey' },
    });
    const stray = await gql(
      api.yoga,
      `{ flowBreakdown(filter: { timeRange: ${RANGE} }, dimensions: [ACCOUNT], tagKey: "app") { rows { label } } }`,
    );
    expect(stray.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', argument: 'tagKey' } });
    const empty = await gql(
      api.yoga,
      `{ flowTimeSeries(filter: { timeRange: ${RANGE} }, groupBy: INSTANCE_TAG, tagKey: "") { series { label } } }`,
    );
    expect(empty.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', argument: 'tagKey' } });
  });

  it('refuses a TAG level without tagKey, and a tagKey without TAG, naming the argument', async () => {
    const noKey = await gql(
      api.yoga,
      `{ trafficEdges(filter: { timeRange: ${RANGE} }, level: TAG) { nodes { bytes } } }`,
    );
    expect(noKey.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', argument: 'tagKey' } });
    const stray = await gql(
      api.yoga,
      `{ edgeGraph(filter: { timeRange: ${RANGE} }, level: VPC, tagKey: "app") { nodes { id } } }`,
    );
    expect(stray.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', argument: 'tagKey' } });
  });

  it("shows a tenant's key the tags of its own accounts only", async () => {
    const accounts = [...new Set(accountOf.values())].sort();
    expect(accounts.length).toBeGreaterThan(1);
    const mine = accounts[0]!;
    // The spans every tag condition and the TAG level read: under the key's scope, its own resources only.
    const ctx = await testQueryContext(root, { db: api.db });
    const snapshots = await readyInventorySnapshots(ctx.warehouse);
    const spans = (accounts: string[] | null) =>
      runQuery(
        ctx,
        build('test.spans', sql`SELECT tag_end FROM ${tagSpansSql({ snapshots, accounts }, { tagKey: 'team' })}`),
      );
    const all = (await spans(null)).map((r) => String(r.tag_end));
    const scopedSpans = (await spans([mine])).map((r) => String(r.tag_end));
    // Every resource, and every address one interface holds.
    expect(all.length).toBe(tagsOf.size + [...holders.keys()].filter((a) => ownerOf(a)).length);
    expect(scopedSpans.length).toBeGreaterThan(0);
    expect(scopedSpans.length).toBeLessThan(all.length);
    expect(scopedSpans.filter((id) => accountOf.get(id) !== mine)).toEqual([]);

    // Subnet and VPC names: the key's own only.
    const subnetOf = (pred: (a: string | undefined) => boolean) =>
      [...accountOf].find(([id, a]) => id.startsWith('subnet-') && pred(a))![0];
    const scopedCtx = { ...ctx, warehouse: scopeWarehouse(createWarehouseReader(root), [mine]) };
    const [own, foreignSubnet] = [subnetOf((a) => a === mine), subnetOf((a) => a !== mine)];
    expect(await resourceNames(scopedCtx)({ id: own, at: null })).toBe(tagsOf.get(own)!.Name);
    expect(await resourceNames(scopedCtx)({ id: foreignSubnet, at: null })).toBe(null);
    expect(await resourceNames(ctx)({ id: foreignSubnet, at: null })).toBe(tagsOf.get(foreignSubnet)!.Name);

    const scoped = await testApi(root, {
      scopeAccountIds: [mine],
      warehouse: scopeWarehouse(createWarehouseReader(root), [mine]),
    });
    const edges = await allEdges(scoped, `filter: { timeRange: ${RANGE} }, level: TAG, tagKey: "team"`);
    expect(edges.some((e) => e.client.id.startsWith('team='))).toBe(true);
    // No `team=` group holds an end of another account.
    const foreign = edges
      .flatMap((e) => [e.client, e.server])
      .filter((end) => end.id.startsWith('team=') && end.accountId !== null && end.accountId !== mine);
    expect(foreign).toEqual([]);
    // A team that exists only in other accounts matches nothing for this key.
    const teamsOf = (pred: (account: string | undefined) => boolean) =>
      new Set([...tagsOf].filter(([id]) => pred(accountOf.get(id))).map(([, tags]) => tags.team));
    const mineTeams = teamsOf((a) => a === mine);
    const elsewhere = [...teamsOf((a) => a !== mine)].filter((t) => !mineTeams.has(t));
    expect(elsewhere.length).toBeGreaterThan(0);
    const tagged = `tag: { key: "team", values: ${JSON.stringify(elsewhere)} }`;
    expect(await allEdges(scoped, `filter: { timeRange: ${RANGE}, ${tagged} }, level: INSTANCE`)).toEqual([]);
    expect((await allEdges(api, `filter: { timeRange: ${RANGE}, ${tagged} }, level: INSTANCE`)).length).toBeGreaterThan(
      0,
    );
  }, 120_000);

  it('names the ends of edges, handshakes and flows downloads as GraphQL does, a scoped key only its own', async () => {
    const keysFile = join(root, '..', 'keys.json');
    const mine = [...new Set(accountOf.values())].sort()[0]!;
    const keys = [
      { key: 'ops-key-0000000000000001', accounts: ['*'], name: 'ops' },
      { key: 'tenant-key-0000000000001', accounts: [mine], name: 'tenant' },
    ];
    await writeFile(keysFile, JSON.stringify({ keys }));
    const { server } = await startTestServer({ dataDir: root, apiKeysFile: keysFile });
    try {
      const download = async (path: string, key: string) => {
        const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
        expect(res.status, await res.clone().text()).toBe(200);
        return (await res.json()) as Record<string, string | null>[];
      };
      const window = `from=${START}T00:00:00Z&to=2024-09-06T00:00:00Z`;
      const ends = `name awsService network { name } subnetName vpcName instanceType securityGroups { id }`;
      for (const [key, scope] of [
        [keys[0]!.key, null],
        [keys[1]!.key, [mine]],
      ] as const) {
        const gqlApi = scope
          ? await testApi(root, {
              scopeAccountIds: scope,
              warehouse: scopeWarehouse(createWarehouseReader(root), scope),
            })
          : api;
        // Two requests: together they would pass the query cost limit.
        const d: any = {
          ...(await gqlData<any>(
            gqlApi.yoga,
            `{ trafficEdges(filter: { timeRange: ${RANGE} }, first: 1000) { nodes { client { id ${ends} } server { id ${ends} } protocol serverPort } } }`,
          )),
          ...(await gqlData<any>(
            gqlApi.yoga,
            `{ handshakes(filter: { timeRange: ${RANGE} }, first: 1000) { nodes { clientAddr clientPort serverAddr serverPort client { ${ends} } server { ${ends} } } } }`,
          )),
        };
        const end = (e: any) =>
          `${e.name}|${e.awsService}|${e.network?.name ?? null}|${e.subnetName}|${e.vpcName}|${e.instanceType}|` +
          e.securityGroups.map((g: any) => g.id).join(' ');
        const row = (o: Record<string, any>, side: string) =>
          `${o[`${side}_name`]}|${o[`${side}_aws_service`]}|${o[`${side}_network`]}|${o[`${side}_subnet_name`]}|` +
          `${o[`${side}_vpc_name`]}|${o[`${side}_instance_type`]}|${(o[`${side}_security_groups`] ?? []).join(' ')}`;
        const edges = await download(`/datasets/edges.json?${window}&limit=1000`, key);
        expect(
          edges.map(
            (o) =>
              `${o.client_id}>${o.server_id}/${o.protocol}/${o.server_port} ${row(o, 'client')} ${row(o, 'server')}`,
          ),
        ).toEqual(
          d.trafficEdges.nodes.map(
            (e: any) => `${e.client.id}>${e.server.id}/${e.protocol}/${e.serverPort} ${end(e.client)} ${end(e.server)}`,
          ),
        );
        const handshakes = await download(`/datasets/handshakes.json?${window}&limit=1000`, key);
        expect(
          handshakes.map(
            (o) =>
              `${o.client_addr}:${o.client_port}>${o.server_addr}:${o.server_port} ${row(o, 'client')} ${row(o, 'server')}`,
          ),
        ).toEqual(
          d.handshakes.nodes.map(
            (h: any) =>
              `${h.clientAddr}:${h.clientPort}>${h.serverAddr}:${h.serverPort} ${end(h.client)} ${end(h.server)}`,
          ),
        );
        // Flow records: the logging instance's name and each packet end's AWS service and network.
        const flows = await download(`/datasets/flows.json?${window}&limit=1000`, key);
        const f: any = await gqlData(
          gqlApi.yoga,
          `{ flows(filter: { timeRange: ${RANGE} }, first: 1000) { nodes { flowId instanceName srcAwsService dstAwsService srcNetwork { name } dstNetwork { name } subnetName vpcName } } }`,
        );
        const flowLine = (id: unknown, names: unknown[]) => `${id} ${names.map((n) => n ?? '-').join(' ')}`;
        expect(
          flows.map((o) =>
            flowLine(o.flow_id, [
              o.instance_name,
              o.src_aws_service,
              o.dst_aws_service,
              o.src_network,
              o.dst_network,
              o.subnet_name,
              o.vpc_name,
            ]),
          ),
        ).toEqual(
          f.flows.nodes.map((n: any) =>
            flowLine(n.flowId, [
              n.instanceName,
              n.srcAwsService,
              n.dstAwsService,
              n.srcNetwork?.name,
              n.dstNetwork?.name,
              n.subnetName,
              n.vpcName,
            ]),
          ),
        );
        expect(flows.filter((o) => o.instance_name !== null).length).toBeGreaterThan(0);
        // Every record of the estate sits in a named subnet and VPC (v2 records name neither: none here).
        expect(flows.filter((o) => o.subnet_id !== null && (o.subnet_name === null || o.vpc_name === null))).toEqual(
          [],
        );
        // The tenant's records here are v2 (no subnet-id): only the unscoped key has subnets to name.
        if (!scope) expect(flows.filter((o) => o.subnet_name !== null).length).toBeGreaterThan(400);
        // As the generator named them (describe-subnets / describe-vpcs).
        const wrong = flows.filter(
          (o) =>
            o.subnet_id !== null &&
            `${o.subnet_name} ${o.vpc_name}` !== `${tagsOf.get(o.subnet_id!)!.Name} ${tagsOf.get(o.vpc_id!)!.Name}`,
        );
        expect(wrong).toEqual([]);
        // Instance types: some ends have them (the generator's estate lists no security groups: empty lists).
        expect(edges.some((o: any) => o.client_instance_type !== null)).toBe(true);
        expect(edges.every((o: any) => Array.isArray(o.client_security_groups ?? []))).toBe(true);
        expect(flows.some((o) => o.dst_aws_service !== null || o.src_aws_service !== null)).toBe(true);
        // Something to compare: named ends, AWS services and networks are all there.
        const named = edges.filter((o) => o.client_name !== null && o.server_name !== null).length;
        const services = edges.filter((o) => o.server_aws_service !== null).length;
        const networks = edges.filter((o) => o.client_network !== null || o.server_network !== null).length;
        expect(
          [named, services, networks].every((n) => n > 0),
          `${named} ${services} ${networks}`,
        ).toBe(true);
        if (scope) {
          const foreign = edges.filter(
            (o) =>
              (o.client_name && accountOfName(o.client_name) !== mine) ||
              (o.server_name && accountOfName(o.server_name) !== mine),
          );
          expect(foreign).toEqual([]);
        }
      }
    } finally {
      await server.close();
    }
  }, 180_000);

  // Last: it adds a snapshot, which the tests above must not see.
  it('names each edge row by the snapshot of its time: an app renamed at noon groups the afternoon only', async () => {
    const busiest = instanceEdges.find((e) => e.client.instanceId && tagOf(e.client, 'app'))!.client.instanceId!;
    const doc = JSON.parse(await readFile(generatedInstances, 'utf8'));
    for (const r of doc.Reservations)
      for (const i of r.Instances)
        if (i.InstanceId === busiest)
          i.Tags = i.Tags.map((t: any) => (t.Key === 'app' ? { ...t, Value: 'renamed-app' } : t));
    const noonFile = join(root, '..', 'describe-instances-noon.json');
    await writeFile(noonFile, JSON.stringify(doc));
    const storage = await createLocalWarehouseStorage(root);
    await importReference(await readInventory([noonFile], new Date(`${START}T12:00:00Z`)), { storage });
    const half = (from: string, to: string) => `{ from: "${START}T${from}:00:00Z", to: "${to}" }`;
    const windows = [half('00', `${START}T12:00:00Z`), half('12', '2024-09-06T00:00:00Z')];
    for (const [i, window] of windows.entries()) {
      const instance = await allEdges(api, `filter: { timeRange: ${window} }, level: INSTANCE`);
      const byApp = await allEdges(api, `filter: { timeRange: ${window} }, level: TAG, tagKey: "app"`);
      const appId = (e: End) => {
        const app = e.instanceId === busiest && i === 1 ? 'renamed-app' : tagOf(e, 'app');
        return app === null ? e.id : `app=${app}`;
      };
      expect(summed(byApp, (e) => e.id)).toEqual(summed(instance, appId));
      const renamed = byApp.some((e) => e.client.id === 'app=renamed-app' || e.server.id === 'app=renamed-app');
      expect(renamed).toBe(i === 1);
    }
    // INSTANCE_TAG reads the same spans at each record's start: the day's records by app are each half's records of
    // each logging instance (else interface) summed by its app then, the renamed instance's afternoon under its new app.
    const want: Record<string, number> = {};
    for (const [i, window] of windows.entries()) {
      const d = await gqlData<any>(
        api.yoga,
        `{ flowBreakdown(filter: { timeRange: ${window} }, dimensions: [INSTANCE, INTERFACE], limit: 1000) {
           rows { key { instanceId interfaceId } records } } }`,
      );
      for (const r of d.flowBreakdown.rows) {
        const id = r.key.instanceId ?? r.key.interfaceId ?? '';
        const app = String(id === busiest && i === 1 ? 'renamed-app' : (tagsOf.get(id)?.app ?? null));
        want[app] = (want[app] ?? 0) + Number(r.records);
      }
    }
    expect(want['renamed-app']).toBeGreaterThan(0);
    const day = `{ from: "${START}T00:00:00Z", to: "2024-09-06T00:00:00Z" }`;
    const byTag = await gqlData<any>(
      api.yoga,
      `{ flowBreakdown(filter: { timeRange: ${day} }, dimensions: [INSTANCE_TAG], tagKey: "app", limit: 100) { rows { key { instanceTag } records } } }`,
    );
    expect(
      Object.fromEntries(byTag.flowBreakdown.rows.map((r: any) => [String(r.key.instanceTag), Number(r.records)])),
    ).toStrictEqual(want);
  }, 120_000);
});
