// The generator's ground truth against the real pipeline: `generateDataset` (4000 records, one day, seed 5) ->
// `runIngest` with derivation into a temp warehouse -> GraphQL. Every instance pair, instance -> endpoint pair and
// NAT path of ground-truth.json must come back from trafficEdges with exactly its once-counted bytes, while the
// naive sum over records (what flowSummary-style totals give) is asserted to be larger.
/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies are compared with literal values */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
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
    expect(truth.instancePairs.length).toBe(262);
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

    // Every pair is resolved to its two instances except 6, all in v2 VPCs: there each interface's only records are
    // one exchange with one peer, the peer's interface logged the very same tuples, times, bytes and actions, and v2
    // has no flow-direction, subnet-id or pkt-* field, so nothing says which interface owns which address (v3 pairs
    // like that are told apart by subnet, a REJECT at one end, or the peer's other traffic). Their ends are
    // UNRESOLVED, named by address, with the two interfaces as the edge's observation points; the bytes are exact.
    const unresolved = truth.instancePairs.filter((p) => byInstance(p) === undefined);
    expect(unresolved.length).toBe(6);
    expect(
      unresolved.every(
        (p) => formatOf.get(p.clientInstanceId) === 'v2-default' && formatOf.get(p.serverInstanceId) === 'v2-default',
      ),
    ).toBe(true);
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
});
