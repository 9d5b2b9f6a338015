/**
 * Generates a small dataset (20 000 records over 2 days) once and checks it by reading every object back with the
 * real parser: per-partition counts, object layout and headers, bytes counted once vs the naive sum, the handshakes
 * across midnight, the scan, address reuse and the Parquet object's AWS types; the inventory beside them read back
 * with the importer's parser. Determinism is checked on 2 000 records.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergeInventory, parseEc2Document } from '../../src/domain/inventory.ts';
import { parseObjectKey } from '../../src/domain/object-key.ts';
import { generateDataset, type GenerateSummary } from '../../src/generator/generate-dataset.ts';
import type { GroundTruth } from '../../src/generator/ground-truth.ts';
import { readFlowFile } from '../../src/ingest/flow-file-reader.ts';

type Rec = Record<string, string | number | null> & { key: string };

let dir: string;
let summary: GenerateSummary;
let truth: GroundTruth;
let keys: string[];
const records: Rec[] = [];

/** The flow-log objects: everything but the ground truth and the inventory, which sit beside AWSLogs/. */
async function listKeys(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter(
      (e) => e.isFile() && e.name !== 'ground-truth.json' && relative(root, e.parentPath).split(sep)[0] !== 'inventory',
    )
    .map((e) => relative(root, join(e.parentPath, e.name)))
    .sort();
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flowql-generate-'));
  summary = await generateDataset({ outDir: dir, records: 20_000, seed: 7, days: 2, start: '2024-09-05' });
  truth = JSON.parse(await readFile(join(dir, 'ground-truth.json'), 'utf8')) as GroundTruth;
  keys = await listKeys(dir);
  for (const key of keys) {
    const path = join(dir, key);
    for await (const item of readFlowFile({ name: key, path, open: async () => createReadStream(path) })) {
      if (item.kind !== 'record') throw new Error(`${key}:${item.line}: ${item.reason}`);
      records.push({ ...(item.record as Record<string, string | number | null>), key });
    }
  }
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('generated dataset read back with the parser', () => {
  it('holds exactly the records asked for, as ground truth and the summary say', () => {
    expect(records).toHaveLength(20_000);
    expect(summary.records).toBe(20_000);
    expect(truth.records.total).toBe(20_000);
    expect(truth.records.ok + truth.records.nodata + truth.records.skipdata).toBe(20_000);
    expect(truth.files.total).toBe(keys.length);
    expect(truth.files.parquet).toBe(keys.filter((k) => k.endsWith('.log.parquet')).length);
  });

  it('has the per-partition counts of ground truth (record account when 12 digits, else the key account)', () => {
    const counted = new Map<string, number[]>();
    for (const r of records) {
      const info = parseObjectKey(r.key);
      const account = /^\d{12}$/.test(String(r.account_id)) ? String(r.account_id) : info.accountId!;
      const region = (r.region as string | undefined) ?? info.region!;
      const date = new Date(Number(r.start_time) * 1000).toISOString().slice(0, 10);
      const k = `${account}|${region}|${date}`;
      const c = counted.get(k) ?? [0, 0, 0];
      c[['OK', 'NODATA', 'SKIPDATA'].indexOf(String(r.log_status))]!++;
      counted.set(k, c);
    }
    const expected = truth.records.byPartition.map((p) => [
      `${p.accountId}|${p.region}|${p.date}`,
      [p.ok, p.nodata, p.skipdata],
    ]);
    expect([...counted.entries()].sort()).toEqual(expected);
    expect(truth.records.byPartition.map((p) => p.accountId)).toContain('012345678901');
    // Endpoint interfaces log `unknown`: those records land in the key's account.
    expect(records.some((r) => r.account_id === 'unknown')).toBe(true);
    expect(truth.records.nodata).toBeGreaterThan(0);
    expect(truth.records.skipdata).toBeGreaterThan(0);
  });

  it('keys every object on AWS layouts, with records whose end falls in the 5-minute window of the name', () => {
    const layouts = new Set<string>();
    for (const key of keys) {
      const info = parseObjectKey(key);
      expect(info.flowLogId, key).toMatch(/^fl-[0-9a-f]{8}$/);
      layouts.add(
        key.startsWith('AWSLogs/aws-account-id=')
          ? info.hour !== null && key.includes('/hour=')
            ? 'hive-hourly'
            : 'hive'
          : 'default',
      );
    }
    expect([...layouts].sort()).toEqual(['default', 'hive', 'hive-hourly']);
    for (const r of records) {
      const stamp = /_(\d{8}T\d{4}Z)_/.exec(r.key)![1]!;
      const window =
        Date.parse(`${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 11)}:${stamp.slice(11, 13)}:00Z`) / 1000;
      const end = Number(r.end_time);
      if (end < window || end >= window + 300) throw new Error(`${r.key}: end ${end} outside the window ${window}`);
    }
  });

  it('starts each text object with its flow log header; one flow log per format', async () => {
    const byId = new Map(truth.flowLogs.map((f) => [f.flowLogId, f]));
    expect(truth.flowLogs.map((f) => `${f.format}/${f.fileFormat}`).sort()).toEqual([
      'v2-default/text',
      'v2-default/text',
      'v2-default/text',
      'v3-alphabetical/text',
      'v3-alphabetical/text',
      'v5-full/parquet',
      'v5-full/text',
    ]);
    for (const key of keys.filter((k) => k.endsWith('.gz')).slice(0, 200)) {
      const first = gunzipSync(await readFile(join(dir, key)))
        .toString('utf8')
        .split('\n', 1)[0];
      expect(first, key).toBe(byId.get(parseObjectKey(key).flowLogId!)!.header);
    }
    for (const f of truth.flowLogs)
      expect(records.filter((r) => parseObjectKey(r.key).flowLogId === f.flowLogId)).toHaveLength(f.records);
  });

  it('counts instance-pair bytes once (sender egress), and the naive sum over all records is exactly double', () => {
    const own = new Map(truth.inventory.interfaces.map((i) => [i.interfaceId, i.ip]));
    const expected = new Map<string, number[]>();
    for (const p of truth.instancePairs) {
      if (p.clientIp === truth.scan.sourceIp) continue;
      const k = `${p.clientIp}|${p.serverIp}|${p.protocol}|${p.serverPort}`;
      const e = expected.get(k) ?? [0, 0, 0];
      expected.set(k, [e[0]! + p.bytesToServer, e[1]! + p.bytesToClient, e[2]! + p.naiveBytes]);
    }
    const found = new Map<string, number[]>([...expected.keys()].map((k) => [k, [0, 0, 0]]));
    for (const r of records.filter((x) => x.log_status === 'OK')) {
      const toServer = found.get(`${r.srcaddr}|${r.dstaddr}|${r.protocol}|${r.dstport}`);
      const toClient = found.get(`${r.dstaddr}|${r.srcaddr}|${r.protocol}|${r.srcport}`);
      const entry = toServer ?? toClient;
      if (entry === undefined) continue;
      const atSender = own.get(String(r.interface_id)) === r.srcaddr;
      if (atSender) entry[toServer ? 0 : 1]! += Number(r.bytes);
      entry[2]! += Number(r.bytes);
    }
    const diff = [...expected]
      .filter(([k, v]) => JSON.stringify(found.get(k)) !== JSON.stringify(v))
      .map(([k, v]) => `${k} expected ${v} found ${found.get(k)}`);
    expect(diff).toEqual([]);
    let once = 0;
    let naive = 0;
    for (const [s, c, n] of expected.values()) [once, naive] = [once + s! + c!, naive + n!];
    expect(once).toBeGreaterThan(0);
    expect(naive).toBe(2 * once);
    expect(expected.size).toBeGreaterThan(100);
  });

  it('logs each connection between accounts or regions at both ends, each in its own account, region, flow log and format', () => {
    const flowLogOf = new Map(truth.flowLogs.map((f) => [f.flowLogId, f]));
    expect(new Set(truth.crossAccountPairs.map((p) => p.link))).toEqual(
      new Set(['peering', 'shared-services', 'inter-region-peering']),
    );
    for (const p of truth.crossAccountPairs) {
      const own = records.filter(
        (r) =>
          r.log_status === 'OK' &&
          r.protocol === p.protocol &&
          ((r.srcaddr === p.clientIp && r.dstaddr === p.serverIp && r.dstport === p.serverPort) ||
            (r.srcaddr === p.serverIp && r.dstaddr === p.clientIp && r.srcport === p.serverPort)),
      );
      expect(own).toHaveLength(p.records);
      const seen = own.map((r) => {
        const log = flowLogOf.get(parseObjectKey(r.key).flowLogId!)!;
        const path = r.traffic_path == null ? '' : ` path ${r.traffic_path}`;
        return `${r.interface_id} ${r.account_id} ${log.accountId} ${log.region} ${log.format} ${r.tcp_flags == null ? '-' : 'flags'}${path}`;
      });
      const flags = (format: string) => (format === 'v2-default' ? '-' : 'flags');
      // v5 egress records carry the traffic-path: 4 through a peering connection in one region, 5 between regions.
      const path = (format: string) => (format === 'v5-full' ? ` path ${p.region === p.serverRegion ? 4 : 5}` : '');
      const ends = [
        `${p.clientInterfaceId} ${p.clientAccountId} ${p.clientAccountId} ${p.region} ${p.clientFormat} ${flags(p.clientFormat)}`,
        `${p.serverInterfaceId} ${p.serverAccountId} ${p.serverAccountId} ${p.serverRegion} ${p.serverFormat} ${flags(p.serverFormat)}`,
      ];
      expect(new Set(seen.map((x) => x.replace(/ path \d$/, '')))).toEqual(new Set(ends));
      for (const [i, format] of [p.clientFormat, p.serverFormat].entries())
        if (format === 'v5-full') expect(seen).toContain(ends[i] + path(format));
      // Counted once at the sender, twice over both ends' records.
      const bytes = own.reduce((a, r) => a + Number(r.bytes), 0);
      expect(bytes).toBe(p.naiveBytes);
      expect(bytes).toBe(2 * (p.bytesToServer + p.bytesToClient));
    }
  });

  it('has handshakes across midnight: SYN in the day-1 object, SYN-ACK in a day-2 object', () => {
    expect(truth.tcp.acrossMidnight.length).toBeGreaterThanOrEqual(1);
    for (const s of truth.tcp.acrossMidnight) {
      const syn = records.filter((r) => r.start_time === Date.parse(s.synStart) / 1000 && r.dstport === s.serverPort);
      const synAck = records.filter(
        (r) => r.start_time === Date.parse(s.synAckStart) / 1000 && r.srcport === s.serverPort,
      );
      expect(syn.map((r) => parseObjectKey(r.key).date)).toContain('2024-09-05');
      expect(synAck.map((r) => parseObjectKey(r.key).date)).toContain('2024-09-06');
      expect(s.synStart < '2024-09-06' && s.synAckStart >= '2024-09-06').toBe(true);
    }
  });

  it('has the port scan of ground truth: SYNs from one source, rejected at many hosts and ports', () => {
    const { scan } = truth;
    expect(scan.probes).toBe(100);
    const probes = records.filter(
      (r) =>
        r.srcaddr === scan.sourceIp &&
        r.action === 'REJECT' &&
        Number(r.start_time) >= Date.parse(scan.from!) / 1000 &&
        Number(r.start_time) < Date.parse(scan.to!) / 1000,
    );
    expect(probes).toHaveLength(scan.probes);
    expect(new Set(probes.map((r) => r.dstport)).size).toBe(scan.distinctPorts);
    expect(new Set(probes.map((r) => r.dstaddr)).size).toBe(scan.distinctHosts);
    expect([scan.distinctHosts, scan.distinctPorts]).toEqual([10, 10]);
  });

  it('keeps each reused address on its first instance before the handover and on the second after', () => {
    expect(truth.addressReuse).toHaveLength(12);
    for (const holder of truth.addressReuse) {
      const own = records.filter((r) => r.interface_id === holder.interfaceId && r.log_status === 'OK');
      for (const r of own) {
        expect(Number(r.start_time)).toBeGreaterThanOrEqual(Date.parse(holder.from) / 1000);
        expect(Number(r.end_time)).toBeLessThan(Date.parse(holder.to) / 1000);
        expect([r.srcaddr, r.dstaddr]).toContain(holder.ip);
      }
    }
    expect(truth.addressReuse[0]!.ip).toBe(truth.addressReuse[1]!.ip);
    expect(truth.addressReuse[1]!.from.slice(0, 10)).toBe('2024-09-06');
  });

  it('writes Parquet objects DuckDB reads with AWS column names and types', async () => {
    const file = join(
      dir,
      keys.find((k) => k.endsWith('.log.parquet'))!,
    );
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    const reader = await conn.runAndReadAll(`SELECT name, type FROM parquet_schema($1) WHERE name <> 'duckdb_schema'`, [
      file,
    ]);
    const types = Object.fromEntries(reader.getRows().map(([n, t]) => [String(n), String(t)]));
    conn.closeSync();
    db.closeSync();
    expect(Object.keys(types)).toHaveLength(29);
    expect([types.version, types.srcport, types.dstport, types.protocol, types.tcp_flags, types.traffic_path]).toEqual(
      Array(6).fill('INT32'),
    );
    expect([types.packets, types.bytes, types.start, types.end]).toEqual(Array(4).fill('INT64'));
    expect([types.account_id, types.log_status, types.flow_direction, types.pkt_dst_aws_service]).toEqual(
      Array(4).fill('BYTE_ARRAY'),
    );
  });
});

const INVENTORY_FILES = [
  'describe-instances.json',
  'describe-network-interfaces.json',
  'describe-subnets.json',
  'describe-vpcs.json',
] as const;

describe('generated inventory read back with the importer', () => {
  it('names every instance and interface the flow logs name, in AWS CLI shapes, outside AWSLogs/', async () => {
    expect(summary.inventoryPaths).toEqual(INVENTORY_FILES.map((f) => join(dir, 'inventory', f)));
    expect(keys.every((k) => k.startsWith('AWSLogs/'))).toBe(true);
    const parts = await Promise.all(
      INVENTORY_FILES.map(async (source) => ({
        source,
        rows: parseEc2Document(JSON.parse(await readFile(join(dir, 'inventory', source), 'utf8')), source),
      })),
    );
    const rows = mergeInventory(parts);
    const byId = new Map(rows.map((r) => [r.resourceId, r]));
    // Every interface of the topology, owned by its flow log's account, attached to its instance (none for NAT
    // gateways and endpoints), and named.
    for (const i of truth.inventory.interfaces) {
      const row = byId.get(i.interfaceId);
      expect(row, i.interfaceId).toMatchObject({
        accountId: i.accountId,
        resourceType: 'interface',
        instanceId: i.instanceId === '-' ? null : i.instanceId,
      });
      const named = i.instanceId === '-' ? row!.name : byId.get(i.instanceId)?.name;
      expect(named, i.interfaceId).toMatch(/^[a-z][a-z0-9-]+$/);
    }
    const instances = rows.filter((r) => r.resourceType === 'instance');
    expect(instances).toHaveLength(truth.inventory.instances);
    const subnets = rows.filter((r) => r.resourceType === 'subnet');
    const vpcs = rows.filter((r) => r.resourceType === 'vpc');
    expect(rows).toHaveLength(
      truth.inventory.instances + truth.inventory.interfaces.length + subnets.length + vpcs.length,
    );
    // Every subnet and VPC a record names has a name of its own.
    for (const r of records) {
      for (const [column, type] of [
        ['subnet_id', 'subnet'],
        ['vpc_id', 'vpc'],
      ] as const) {
        const id = r[column];
        if (typeof id !== 'string' || id === '-') continue;
        expect(byId.get(id)?.resourceType, id).toBe(type);
        expect(byId.get(id)?.name, id).toMatch(/^[a-z]+-(vpc|[a-z]-\d+)$/);
      }
    }
    expect(records.some((r) => typeof r.subnet_id === 'string' && r.subnet_id.startsWith('subnet-'))).toBe(true);
    // Names are unique and carry team and app tags.
    expect(new Set(instances.map((r) => r.name)).size).toBe(instances.length);
    for (const r of instances) expect(r.tags.map((t) => t.key)).toEqual(['Name', 'app', 'team']);
    // Every id a record names is in the inventory.
    for (const r of records) {
      expect(byId.has(String(r.interface_id)), String(r.interface_id)).toBe(true);
      const instanceId = r.instance_id;
      if (typeof instanceId === 'string' && instanceId !== '-')
        expect(byId.get(instanceId)?.resourceType, instanceId).toBe('instance');
    }
    expect(records.some((r) => typeof r.instance_id === 'string' && r.instance_id.startsWith('i-'))).toBe(true);
  });
});

describe('determinism', () => {
  it('writes identical bytes for the same seed and different ones for another seed', async () => {
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => mkdtemp(join(tmpdir(), 'flowql-det-'))));
    try {
      for (const [out, seed] of [
        [a!, 3],
        [b!, 3],
        [c!, 4],
      ] as const)
        await generateDataset({ outDir: out, records: 2_000, seed, days: 2 });
      const [ka, kb, kc] = await Promise.all([a!, b!, c!].map(listKeys));
      expect(kb).toEqual(ka);
      expect(kc).not.toEqual(ka);
      for (const key of [...ka!, 'ground-truth.json', ...INVENTORY_FILES.map((f) => `inventory/${f}`)]) {
        expect((await readFile(join(b!, key))).equals(await readFile(join(a!, key))), key).toBe(true);
      }
    } finally {
      await Promise.all([a!, b!, c!].map((d) => rm(d, { recursive: true, force: true })));
    }
  });
});
