// The generator's ground truth against the real pipeline: `generateDataset` (4000 records, one day, seed 5) ->
// `runIngest` with derivation into a temp warehouse -> GraphQL. Every instance pair, instance -> endpoint pair and
// NAT path of ground-truth.json must come back from trafficEdges with exactly its once-counted bytes, while the
// naive sum over records (what flowSummary-style totals give) is asserted to be larger. The pairs between accounts
// (crossAccountPairs) are checked under each selection of accounts against crossAccountViews (docs/semantics.md §10).
/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies are compared with literal values */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEMO_REFERENCE_FILES } from '../../src/demo/ensure-demo-warehouse.ts';
import { parseAddressBlock } from '../../src/domain/cidr.ts';
import { parseAwsIpRanges } from '../../src/domain/reference-tables.ts';
import { generateDataset } from '../../src/generator/generate-dataset.ts';
import type { GroundTruth } from '../../src/generator/ground-truth.ts';
import { createPrng } from '../../src/generator/prng.ts';
import { buildTopology } from '../../src/generator/topology.ts';
import { runIngest } from '../../src/ingest/ingest-run.ts';
import { createLocalWarehouseStorage } from '../../src/ingest/local-warehouse-storage.ts';
import { createWarehouseReader, type WarehouseReader } from '../../src/store/warehouse-reader.ts';
import { gqlData, testApi } from '../helpers/graphql.ts';

const SEED = 5;
const START = '2024-09-05';
const RANGE = `{ from: "${START}T00:00:00Z", to: "2024-09-06T00:00:00Z" }`;

const EDGES = `query($after: String) { trafficEdges(filter: { timeRange: ${RANGE} }, level: INSTANCE, first: 1000, after: $after) {
  nodes { client { id kind instanceId interfaceId ip } server { id kind instanceId interfaceId ip } protocol serverPort
          bytesToServer bytesToClient packetsToServer packetsToClient records observedAt }
  pageInfo { hasNextPage endCursor } } }`;

interface Edge {
  readonly client: {
    id: string;
    kind: string;
    instanceId: string | null;
    interfaceId: string | null;
    ip: string | null;
  };
  readonly server: Edge['client'];
  readonly protocol: number;
  readonly serverPort: number | null;
  readonly bytesToServer: string;
  readonly bytesToClient: string;
  readonly packetsToServer: string;
  readonly packetsToClient: string;
  readonly records: string;
  readonly observedAt: string[];
}

describe('analytics against the generator ground truth', () => {
  let truth: GroundTruth;
  let api: Awaited<ReturnType<typeof testApi>>;
  let dataRoot: string;
  /** Edges keyed `client|server|protocol|port`, endpoints named by instance id (v2 records only know the interface). */
  const edges = new Map<string, Edge>();
  /** The flow log format of each instance's interface. */
  const formatOf = new Map<string, string>();
  /** The interface of each instance. */
  const interfaceOf = new Map<string, string>();
  /** The subnet of each instance. */
  const subnetOf = new Map<string, string>();

  beforeAll(async () => {
    const root = await mkdtemp(join(tmpdir(), 'flowql-truth-'));
    const generated = await generateDataset({
      outDir: join(root, 'gen'),
      records: 4000,
      days: 1,
      seed: SEED,
      start: START,
    });
    truth = generated.truth;
    const summary = await runIngest({
      sources: [join(root, 'gen', 'AWSLogs')],
      storage: await createLocalWarehouseStorage(join(root, 'data')),
      derive: true,
    });
    expect([summary.records, summary.rejects, summary.objects.failed]).toEqual([4000, 0, 0]);
    dataRoot = join(root, 'data');
    api = await testApi(dataRoot);

    // The generator's topology, rebuilt from the seed, names the instance behind each interface.
    const from = Date.parse(`${START}T00:00:00Z`) / 1000;
    const topo = buildTopology(createPrng(SEED).fork('topology'), from, from + 86_400);
    const instanceOf = new Map(topo.instances.map((i) => [i.iface.interfaceId, i.id]));
    for (const i of topo.instances) formatOf.set(i.id, i.iface.flowLog.formatName);
    for (const i of topo.instances) interfaceOf.set(i.id, i.iface.interfaceId);
    for (const i of topo.instances) subnetOf.set(i.id, i.iface.subnetId);
    const name = (e: Edge['client']) =>
      e.instanceId ?? (e.interfaceId ? (instanceOf.get(e.interfaceId) ?? e.interfaceId) : (e.ip ?? e.id));
    for (const e of await allEdges(api)) {
      const key = `${name(e.client)}|${name(e.server)}|${e.protocol}|${e.serverPort}`;
      expect(edges.has(key), `edge ${key} listed twice`).toBe(false);
      edges.set(key, e);
    }
  }, 300_000);

  /** Every INSTANCE-level edge of the day, page by page. */
  async function allEdges(from: typeof api): Promise<Edge[]> {
    const out: Edge[] = [];
    let after: string | null = null;
    do {
      const d: any = await gqlData(from.yoga, EDGES, { after });
      out.push(...(d.trafficEdges.nodes as Edge[]));
      after = d.trafficEdges.pageInfo.hasNextPage ? d.trafficEdges.pageInfo.endCursor : null;
    } while (after);
    return out;
  }

  it('gives every instance pair exactly its once-counted bytes; the naive sum over records is twice that', () => {
    expect(truth.instancePairs.length).toBe(206);
    type Pair = (typeof truth.instancePairs)[number];
    const line = (p: Pair, e: Partial<Edge> | undefined) =>
      `${p.clientInstanceId}>${p.serverInstanceId}/${p.protocol}/${p.serverPort} ${e?.bytesToServer}/${e?.bytesToClient} ${e?.packetsToServer}/${e?.packetsToClient}`;
    const want = (p: Pair) =>
      line(p, {
        bytesToServer: String(p.bytesToServer),
        bytesToClient: String(p.bytesToClient),
        packetsToServer: String(p.packetsToServer),
        packetsToClient: String(p.packetsToClient),
      });
    const byInstance = (p: Pair) =>
      edges.get(`${p.clientInstanceId}|${p.serverInstanceId}|${p.protocol}|${p.serverPort}`);
    // An UNRESOLVED endpoint is named by its address: the edge is keyed by the pair's addresses.
    const byAddress = (p: Pair) => edges.get(`${p.clientIp}|${p.serverIp}|${p.protocol}|${p.serverPort}`);
    const edgeOf = (p: Pair) => byInstance(p) ?? byAddress(p);
    expect(truth.instancePairs.map((p) => line(p, edgeOf(p)))).toEqual(truth.instancePairs.map(want));

    // Every pair is resolved to its two instances except 16 where each interface's only records of the day are one
    // exchange with one peer, and the peer's interface logged the very same tuples, times, bytes and actions. In v2
    // (15 of them) nothing else says which interface owns which address: v2 has no flow-direction, subnet-id or pkt-*
    // field (v3 pairs like that are told apart by subnet, a REJECT at one end, or the peer's other traffic). The
    // other is a v3 ping between two instances of one subnet, where the subnet tells nothing either (semantics §2).
    // Their ends are UNRESOLVED, named by address, with the two interfaces as the edge's observation points; the
    // bytes are exact.
    const unresolved = truth.instancePairs.filter((p) => byInstance(p) === undefined);
    expect(unresolved.length).toBe(16);
    const v2 = (p: Pair) =>
      formatOf.get(p.clientInstanceId) === 'v2-default' && formatOf.get(p.serverInstanceId) === 'v2-default';
    expect(unresolved.filter(v2).length).toBe(15);
    expect(
      unresolved
        .filter((p) => !v2(p))
        .map((p) => `${p.protocol} ${subnetOf.get(p.clientInstanceId) === subnetOf.get(p.serverInstanceId)}`),
    ).toEqual(['1 true']);
    expect(
      unresolved.map((p) => {
        const e = byAddress(p)!;
        return `${e.client.kind}/${e.server.kind} ${e.observedAt.join(',')}`;
      }),
    ).toEqual(
      unresolved.map(
        (p) =>
          `UNRESOLVED/UNRESOLVED ${[interfaceOf.get(p.clientInstanceId), interfaceOf.get(p.serverInstanceId)].sort().join(',')}`,
      ),
    );
    const resolved = truth.instancePairs.filter((p) => byInstance(p) !== undefined);
    // v2 records carry no instance-id: their ends resolve to the interface (named by instance above via the topology).
    const kindOf = (instanceId: string) => (formatOf.get(instanceId) === 'v2-default' ? 'INTERFACE' : 'INSTANCE');
    expect(resolved.map((p) => `${byInstance(p)!.client.kind}/${byInstance(p)!.server.kind}`)).toEqual(
      resolved.map((p) => `${kindOf(p.clientInstanceId)}/${kindOf(p.serverInstanceId)}`),
    );

    const once = truth.instancePairs.reduce((a, p) => a + p.bytesToServer + p.bytesToClient, 0);
    const naive = truth.instancePairs.reduce((a, p) => a + p.naiveBytes, 0);
    const fromEdges = truth.instancePairs.reduce(
      (a, p) => a + Number(edgeOf(p)!.bytesToServer) + Number(edgeOf(p)!.bytesToClient),
      0,
    );
    expect(fromEdges).toBe(once);
    expect(naive).toBe(2 * once); // both ends monitored: the naive sum over records counts every byte twice
  });

  it('answers the same edges from raw records (no derived tables in the manifest) as from the derived table', async () => {
    // The reader's manifest without handshakes/ and edges/ makes every question take the raw fallback.
    const reader = createWarehouseReader(dataRoot);
    const flowsOnly: WarehouseReader = {
      ...reader,
      manifest: async () => {
        const m = await reader.manifest();
        return { ...m, files: m.files.filter((f) => f.table === 'flows') };
      },
    };
    const derivedPartitions = new Set(
      (await reader.manifest()).files
        .filter((f) => f.table === 'edges')
        .map((f) => `${f.accountId}/${f.region}/${f.date}`),
    );
    expect(derivedPartitions.size).toBe(5); // every (account, region, day) partition has edges files (one per hour)
    const raw = await allEdges(await testApi(dataRoot, { warehouse: flowsOnly }));
    const derived = await allEdges(api);
    expect(raw.length).toBe(edges.size);
    expect(raw).toEqual(derived);
  }, 120_000);

  it('attributes NAT gateway traffic to the inside instance, counted once', () => {
    expect(truth.nat.length).toBeGreaterThan(0);
    const got = truth.nat.map((n) => {
      const e = edges.get(`${n.instanceId}|${n.externalIp}|${n.protocol}|${n.port}`);
      return `${n.instanceId}>${n.externalIp}:${n.port} ${e?.bytesToServer}/${e?.bytesToClient}`;
    });
    expect(got).toEqual(truth.nat.map((n) => `${n.instanceId}>${n.externalIp}:${n.port} ${n.bytesOut}/${n.bytesIn}`));
    const naive = truth.nat.reduce((a, n) => a + n.naiveBytes, 0);
    const once = truth.nat.reduce((a, n) => a + n.bytesOut + n.bytesIn, 0);
    expect(naive).toBeGreaterThan(2 * once); // 6 records a window for 2 directions
  });

  it("sends NAT gateway traffic to AWS services' public addresses, as the shipped ip-ranges name them", async () => {
    // The attribution and bytes of these paths are the test above's; here: which are AWS's, by the demo's ranges.
    const ranges = parseAwsIpRanges(JSON.parse(await readFile(DEMO_REFERENCE_FILES.ip_ranges, 'utf8')), 'ip-ranges');
    const serviceOf = (ip: string) => {
      const a = parseAddressBlock(ip)!;
      const holding = ranges.rows
        .map((r) => ({ r, b: parseAddressBlock(r.prefix)! }))
        .filter(({ b }) => b.family === a.family && b.first <= a.first && a.last <= b.last)
        .sort((x, y) => y.b.prefix - x.b.prefix || (x.r.service === 'AMAZON' ? 1 : -1));
      return holding[0]?.r.service ?? null;
    };
    const toAws = truth.nat.filter((n) => n.awsService !== null);
    // 4000 records: three instances' connections to DynamoDB's address (the demo's 1.6M records reach S3's too).
    expect(toAws.map((n) => `${n.instanceId} ${n.externalIp} ${n.awsService}`)).toEqual([
      'i-2d1182d276c09ee56 52.94.3.25 DYNAMODB',
      'i-3e7045671e31004d2 52.94.3.25 DYNAMODB',
      'i-47e5f051bd5677e7b 52.94.3.25 DYNAMODB',
    ]);
    expect(truth.nat.map((n) => n.awsService)).toEqual(truth.nat.map((n) => serviceOf(n.externalIp)));
  });

  it('gives instance -> endpoint-interface pairs their bytes', () => {
    const got = truth.interfacePairs.map((p) => {
      const e = edges.get(`${p.clientInstanceId}|${p.serverInterfaceId}|${p.protocol}|${p.serverPort}`);
      return `${p.clientInstanceId}>${p.serverInterfaceId} ${e?.bytesToServer}/${e?.bytesToClient}`;
    });
    expect(got).toEqual(
      truth.interfacePairs.map(
        (p) => `${p.clientInstanceId}>${p.serverInterfaceId} ${p.bytesToServer}/${p.bytesToClient}`,
      ),
    );
  });

  it('finds the port scan from its rejected records: its VPC logs the v2 format (no tcp-flags, so no handshakes)', async () => {
    expect(formatOf.get(truth.scan.sourceInstanceId)).toBe('v2-default');
    const q = `{ scans(filter: { timeRange: ${RANGE}, srcAddr: ["${truth.scan.sourceIp}"] }, minPorts: 1, minHosts: 1) {
        nodes { sourceAddr evidence syns rejectedRecords failedPorts failedHosts } }
      trafficEdges(filter: { timeRange: ${RANGE}, srcAddr: ["${truth.scan.sourceIp}"] }, level: ADDRESS, orderBy: REJECTED_RECORDS, first: 1000) {
        nodes { server { ip } serverPort rejectedRecords records } } }`;
    const d: any = await gqlData(api.yoga, q);
    // Each probe: an ACCEPT record at the scanner and a REJECT record at the target; the REJECTs are the evidence.
    expect(d.scans.nodes).toEqual([
      {
        sourceAddr: truth.scan.sourceIp,
        evidence: 'REJECTED_RECORDS',
        syns: null,
        rejectedRecords: String(truth.scan.probes),
        failedPorts: truth.scan.distinctPorts,
        failedHosts: truth.scan.distinctHosts,
      },
    ]);
    const probes = (d.trafficEdges.nodes as any[]).filter((e) => Number(e.rejectedRecords) > 0);
    expect(probes.reduce((a, e) => a + Number(e.rejectedRecords), 0)).toBe(truth.scan.probes);
    expect(new Set(probes.map((e) => e.server.ip)).size).toBe(truth.scan.distinctHosts);
    expect(new Set(probes.map((e) => e.serverPort)).size).toBe(truth.scan.distinctPorts);
  });

  it('lists no other source of the day as a scanner at the default thresholds', async () => {
    const d: any = await gqlData(
      api.yoga,
      `{ scans(filter: { timeRange: ${RANGE} }) { truncated nodes { sourceAddr evidence } } }`,
    );
    expect(d.scans).toEqual({
      truncated: false,
      nodes: [{ sourceAddr: truth.scan.sourceIp, evidence: 'REJECTED_RECORDS' }],
    });
  });

  describe('cross-account connections (docs/semantics.md §10)', () => {
    type View = GroundTruth['crossAccountViews'][number];
    type Pair = GroundTruth['crossAccountPairs'][number];
    const VIEW_EDGES = (filter: string) => `query($after: String) {
      trafficEdges(filter: { timeRange: ${RANGE}${filter} }, level: INSTANCE, first: 1000, after: $after) {
        nodes { client { kind id azId accountId ip } server { kind id azId accountId ip } protocol serverPort
                bytesToServer bytesToClient connections crossAzBytes crossRegionBytes }
        pageInfo { hasNextPage endCursor } } }`;
    const accountsFilter = (ids: readonly string[] | null) =>
      ids === null ? '' : `, accountIds: ${JSON.stringify(ids)}`;
    const regionFilter = (region: string | null) => (region === null ? '' : `, regions: ["${region}"]`);

    async function viewEdges(accounts: readonly string[] | null, region: string | null = null): Promise<any[]> {
      const out: any[] = [];
      let after: string | null = null;
      do {
        const d: any = await gqlData(api.yoga, VIEW_EDGES(accountsFilter(accounts) + regionFilter(region)), { after });
        out.push(...d.trafficEdges.nodes);
        after = d.trafficEdges.pageInfo.hasNextPage ? d.trafficEdges.pageInfo.endCursor : null;
      } while (after);
      return out;
    }

    const pairOf = (v: View): Pair =>
      truth.crossAccountPairs.find(
        (p) =>
          p.clientInstanceId === v.clientInstanceId &&
          p.serverInstanceId === v.serverInstanceId &&
          p.serverPort === v.serverPort,
      )!;
    const end = (e: any) => ({ kind: e.kind, id: e.id, azId: e.azId, accountId: e.accountId });
    /** The edges between the pair's two addresses, either way round: exactly one when the pair appears once. */
    const between = (list: any[], p: Pair) =>
      list.filter(
        (e) =>
          e.protocol === p.protocol &&
          ((e.client.ip === p.clientIp && e.server.ip === p.serverIp) ||
            (e.client.ip === p.serverIp && e.server.ip === p.clientIp)),
      );
    const shown = (e: any) => ({
      client: end(e.client),
      server: end(e.server),
      bytesToServer: e.bytesToServer,
      bytesToClient: e.bytesToClient,
      connections: e.connections,
      crossAzBytes: e.crossAzBytes,
      crossRegionBytes: e.crossRegionBytes,
    });
    const wanted = (v: View) => ({
      client: v.client,
      server: v.server,
      bytesToServer: String(v.bytesToServer),
      bytesToClient: String(v.bytesToClient),
      connections: String(v.connections),
      crossAzBytes: String(v.crossAzBytes),
      crossRegionBytes: String(v.crossRegionBytes),
    });
    /** The organisation-wide view of each pair, in the order of the pairs: the one that reads both ends' accounts. */
    const org = () =>
      truth.crossAccountViews.filter((v) => {
        const p = pairOf(v);
        return v.accountIds.includes(p.clientAccountId) && v.accountIds.includes(p.serverAccountId);
      });
    const twoRegions = () => truth.crossAccountPairs.filter((p) => p.region !== p.serverRegion);

    it('the generator made every call between accounts and regions: a peering in us-east-1 (v2 and v3), shared services in eu-west-1 (v2 and v5), inter-region peering from us-west-2 (v3) to both', () => {
      expect(
        truth.crossAccountPairs.map(
          (p) =>
            `${p.link} ${p.region}${p.serverRegion === p.region ? '' : `>${p.serverRegion}`} ${p.clientFormat}>${p.serverFormat}:${p.serverPort}`,
        ),
      ).toEqual([
        'inter-region-peering us-west-2>eu-west-1 v3-alphabetical>v5-full:443',
        'inter-region-peering us-west-2>us-east-1 v3-alphabetical>v3-alphabetical:5432',
        'peering us-east-1 v2-default>v3-alphabetical:5432',
        'peering us-east-1 v2-default>v3-alphabetical:6379',
        'shared-services eu-west-1 v2-default>v5-full:443',
        'shared-services eu-west-1 v2-default>v5-full:636',
        'inter-region-peering us-west-2>us-east-1 v3-alphabetical>v3-alphabetical:5432',
        'peering us-east-1 v3-alphabetical>v2-default:5432',
        'shared-services eu-west-1 v2-default>v5-full:443',
        'shared-services eu-west-1 v2-default>v5-full:636',
        'peering us-east-1 v3-alphabetical>v2-default:5432',
      ]);
      // Both interfaces log both directions: the naive sum over records is twice the bytes counted once.
      for (const p of truth.crossAccountPairs) expect(p.naiveBytes).toBe(2 * (p.bytesToServer + p.bytesToClient));
      // Three views of a pair between accounts (both, each alone); one of a pair between two regions of one account.
      const sameAccount = truth.crossAccountPairs.filter((p) => p.clientAccountId === p.serverAccountId);
      expect(sameAccount.length).toBe(2);
      expect(truth.crossAccountViews.length).toBe(3 * truth.crossAccountPairs.length - 2 * sameAccount.length);
    });

    it('organisation-wide (no account filter): each pair is one edge, both ends resolved, its bytes once', async () => {
      const all = await viewEdges(null);
      expect(org().map((v) => between(all, pairOf(v)).map(shown))).toEqual(org().map((v) => [wanted(v)]));
      // One end is v2 or v3 (no az-id) in every pair the estate allows, so no cross-AZ byte can be told although most
      // pairs sit in two AZs: the ground truth says so rather than expecting what the records cannot show.
      expect(truth.crossAccountPairs.filter((p) => p.crossAz).length).toBe(9);
      expect(org().every((v) => v.crossAzBytes === 0)).toBe(true);
      // Between regions, both ends resolved: every byte of the pair is cross-region, counted once.
      expect(twoRegions().length).toBe(3);
      expect(org().filter((v) => v.crossRegionBytes > 0).length).toBe(3);
    });

    it("one account selected: its own end resolved, the other account's end as the address its records name", async () => {
      for (const account of truth.inventory.accounts) {
        const mine = truth.crossAccountViews.filter((v) => v.accountIds.length === 1 && v.accountIds[0] === account);
        const got = await viewEdges([account]);
        expect(
          mine.map((v) => between(got, pairOf(v)).map(shown)),
          account,
        ).toEqual(mine.map((v) => [wanted(v)]));
      }
      // Account 0 logs v2: no tcp-flags, so its records alone show no handshake; the v3 and v5 sides show them all.
      const [a0] = truth.inventory.accounts;
      const alone = truth.crossAccountViews.filter((v) => v.accountIds.length === 1);
      expect(alone.filter((v) => v.accountIds[0] === a0).every((v) => v.connections === 0)).toBe(true);
      expect(alone.filter((v) => v.accountIds[0] !== a0).every((v) => v.connections > 0)).toBe(true);
    });

    it("a pair's two accounts selected, the third left out: its records paired at query time give the organisation-wide edge", async () => {
      for (const v of org().filter((w) => w.accountIds.length === 2)) {
        const got = await viewEdges(v.accountIds);
        expect(between(got, pairOf(v)).map(shown), v.accountIds.join('+')).toEqual([wanted(v)]);
      }
      // Every account selected by name is the same question as no account filter, region by region too.
      const key = (e: any) => JSON.stringify(e);
      for (const region of [null, 'us-east-1', 'eu-west-1', 'us-west-2']) {
        const named = await viewEdges(truth.inventory.accounts, region);
        const none = await viewEdges(null, region);
        expect(named.map(key).sort(), String(region)).toEqual(none.map(key).sort());
        expect(named.length).toBeGreaterThan(0);
      }
    });

    it("a connection between regions is filed under its client's region (the server's, where only the server's records are read)", async () => {
      for (const p of twoRegions()) {
        const view = org().find((v) => pairOf(v) === p)!;
        expect(between(await viewEdges(null, p.region), p).map(shown), p.region).toEqual([wanted(view)]);
        expect(between(await viewEdges(null, p.serverRegion), p), p.serverRegion).toEqual([]);
        if (p.clientAccountId === p.serverAccountId) continue;
        // The server's account alone: the client is an address its records name, so the row is the server's region's.
        const alone = truth.crossAccountViews.find(
          (v) => pairOf(v) === p && v.accountIds.length === 1 && v.accountIds[0] === p.serverAccountId,
        )!;
        const got = await viewEdges([p.serverAccountId], p.serverRegion);
        expect(between(got, p).map(shown)).toEqual([wanted(alone)]);
        expect(between(await viewEdges([p.serverAccountId], p.region), p)).toEqual([]);
      }
    });

    it('the ACCOUNT level says who sends how much to whom across accounts, each byte once', async () => {
      // Expected: the pairs summed per client account -> server account (and protocol, port for edges).
      const sum = (key: (p: Pair) => string) => {
        const m = new Map<string, [number, number]>();
        for (const p of truth.crossAccountPairs.filter((q) => q.clientAccountId !== q.serverAccountId)) {
          const [s, c] = m.get(key(p)) ?? [0, 0];
          m.set(key(p), [s + p.bytesToServer, c + p.bytesToClient]);
        }
        return [...m].map(([k, [s, c]]) => `${k} ${s}/${c}`).sort();
      };
      const d: any = await gqlData(
        api.yoga,
        `{ trafficEdges(filter: { timeRange: ${RANGE} }, level: ACCOUNT, first: 1000) {
             nodes { client { id } server { id } protocol serverPort bytesToServer bytesToClient } }
           trafficCost(filter: { timeRange: ${RANGE} }, groupBy: PAIR, level: ACCOUNT, limit: 1000) {
             groups { rows { client { id } server { id } bytesToServer bytesToClient } } } }`,
      );
      // Ends of two different accounts: only the cross-account pairs (endpoint and NAT interfaces are their VPC's).
      const across = (e: any) =>
        /^\d{12}$/.test(e.client.id) && /^\d{12}$/.test(e.server.id) && e.client.id !== e.server.id;
      expect(
        d.trafficEdges.nodes
          .filter(across)
          .map(
            (e: any) =>
              `${e.client.id}>${e.server.id}/${e.protocol}/${e.serverPort} ${e.bytesToServer}/${e.bytesToClient}`,
          )
          .sort(),
      ).toEqual(sum((p) => `${p.clientAccountId}>${p.serverAccountId}/${p.protocol}/${p.serverPort}`));
      expect(
        d.trafficCost.groups.rows
          .filter(across)
          .map((g: any) => `${g.client.id}>${g.server.id} ${g.bytesToServer}/${g.bytesToClient}`)
          .sort(),
      ).toEqual(sum((p) => `${p.clientAccountId}>${p.serverAccountId}`));
    });

    it('handshakes and trafficCost count each cross-account connection and byte once', async () => {
      const pairs = truth.crossAccountPairs;
      /** The pair's connections: srcAddr is the client, dstAddr the server; `extra` narrows the accounts. */
      const filter = (p: Pair, extra = '') =>
        `{ timeRange: ${RANGE}, srcAddr: ["${p.clientIp}"], dstAddr: ["${p.serverIp}"]${extra} }`;
      // Four pairs per operation: two root fields each, under the operation's statement limit.
      const d: any = {};
      for (let from = 0; from < pairs.length; from += 4) {
        const q = pairs
          .slice(from, from + 4)
          .map(
            (p, k) => `c${from + k}: trafficCost(filter: ${filter(p)}) { bytes crossAzBytes }
            h${from + k}: handshakes(filter: ${filter(p)}, first: 100) { nodes { state observedAt } }`,
          )
          .join('\n');
        Object.assign(d, await gqlData(api.yoga, `{ ${q} }`));
      }
      // The handshakes come from the sides that log tcp-flags (v3 or v5), observed there only: v2 records have none.
      const flagged = (p: Pair) =>
        [
          ...(p.clientFormat === 'v2-default' ? [] : [p.clientInterfaceId]),
          ...(p.serverFormat === 'v2-default' ? [] : [p.serverInterfaceId]),
        ].sort();
      const views = org(); // in the order of the pairs
      expect(pairs.map((_p, i) => d[`c${i}`])).toEqual(
        pairs.map((p, i) => ({
          bytes: String(p.bytesToServer + p.bytesToClient),
          crossAzBytes: String(views[i]!.crossAzBytes),
        })),
      );
      expect(pairs.map((_p, i) => d[`h${i}`].nodes)).toEqual(
        pairs.map((p, i) =>
          Array.from({ length: views[i]!.connections }, () => ({ state: 'ESTABLISHED', observedAt: flagged(p) })),
        ),
      );
      // Each account alone counts the pair once too, so adding the two accounts' answers would count it twice.
      for (const p of pairs.filter((q) => q.clientAccountId !== q.serverAccountId).slice(0, 3)) {
        const alone = await Promise.all(
          [p.clientAccountId, p.serverAccountId].map(async (a) => {
            const r: any = await gqlData(
              api.yoga,
              `{ trafficCost(filter: ${filter(p, `, accountIds: ["${a}"]`)}) { bytes } }`,
            );
            return Number(r.trafficCost.bytes);
          }),
        );
        expect(alone).toEqual([p.bytesToServer + p.bytesToClient, p.bytesToServer + p.bytesToClient]);
        expect(alone[0]! + alone[1]!).toBe(p.naiveBytes);
      }
    });
  });
});
