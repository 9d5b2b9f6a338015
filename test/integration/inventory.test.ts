// Inventory snapshots end to end: `flowql inventory import` through the real CLI over the AWS CLI's own JSON shapes
// (test/fixtures/aws/inventory), a re-import a no-op, a bad file refused with nothing loaded, and the API naming
// handshake ends at their time across two snapshots (an interface reattached in the second names its new owner only
// from the second's as-of), with a tenant's key seeing names only of its accounts' resources.
/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies are compared with literal values */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scopeWarehouse } from '../../src/auth/scoped-warehouse.ts';
import { warehousePaths, type Manifest } from '../../src/store/layout.ts';
import { createWarehouseReader } from '../../src/store/warehouse-reader.ts';
import { inventoryNames } from '../../src/questions/inventory-lookup.ts';
import { openAnalyticsDb, rec, t } from '../helpers/analytics-fixture.ts';
import { writeDerivedFixtureWarehouse } from '../helpers/derived-fixture.ts';
import { gqlData, testApi } from '../helpers/graphql.ts';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '../../bin/flowql.js');
const FIXTURES = join(import.meta.dirname, '../fixtures/aws/inventory');
const INSTANCES = join(FIXTURES, 'describe-instances.json');
const INTERFACES = join(FIXTURES, 'describe-network-interfaces.json');
const NOON = '2024-03-01T12:00:00Z';
const MIDNIGHT = '2024-03-01T00:00:00Z';

async function flowql(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const manifestOf = async (root: string) =>
  JSON.parse(await readFile(warehousePaths(root).manifest, 'utf8')) as Manifest;

/** The interfaces output as it reads at noon: eni-…d4 moved from payments-api to redis-prod. */
async function interfacesAtNoon(dir: string): Promise<string> {
  const doc = JSON.parse(await readFile(INTERFACES, 'utf8'));
  doc.NetworkInterfaces[0].Attachment.InstanceId = 'i-0bbbbbbbbbbbbbbb2';
  const path = join(dir, 'describe-network-interfaces-noon.json');
  await writeFile(path, JSON.stringify(doc, null, 2));
  return path;
}

/**
 * The instances output as it reads at noon: redis-prod's address 10.0.0.20 went to payments-api (a secondary address of
 * its interface), and redis-prod has 10.0.0.21.
 */
async function instancesAtNoon(dir: string): Promise<string> {
  const doc = JSON.parse(await readFile(INSTANCES, 'utf8'));
  const [payments, redis] = [0, 1].map((i) => doc.Reservations[0].Instances[i].NetworkInterfaces[0]);
  payments.PrivateIpAddresses.push({ Primary: false, PrivateIpAddress: '10.0.0.20' });
  redis.PrivateIpAddress = '10.0.0.21';
  redis.PrivateIpAddresses = [{ Primary: true, PrivateIpAddress: '10.0.0.21' }];
  const path = join(dir, 'describe-instances-noon.json');
  await writeFile(path, JSON.stringify(doc, null, 2));
  return path;
}

describe('flowql inventory import (real CLI)', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'flowql-inventory-cli-'));
  });

  it('imports both JSON shapes as one snapshot; the same files at the same as-of again change nothing', async () => {
    const first = await flowql(
      'inventory',
      'import',
      INSTANCES,
      INTERFACES,
      '--data',
      root,
      '--as-of',
      MIDNIGHT,
      '--json',
    );
    expect(first.code, first.stderr).toBe(0);
    // 3 instances, their 3 primary interfaces, and 2 more from the interfaces output.
    expect(JSON.parse(first.stdout)).toMatchObject({
      outcome: 'imported',
      rows: 8,
      createdAt: '2024-03-01T00:00:00.000Z',
    });
    const before = await manifestOf(root);
    const again = await flowql(
      'inventory',
      'import',
      INSTANCES,
      INTERFACES,
      '--data',
      root,
      '--as-of',
      MIDNIGHT,
      '--json',
    );
    expect(JSON.parse(again.stdout)).toMatchObject({ outcome: 'unchanged' });
    expect((await manifestOf(root)).generation).toBe(before.generation);
  });

  it('keeps earlier snapshots live: a later as-of adds one', async () => {
    const noon = await interfacesAtNoon(root);
    const res = await flowql('inventory', 'import', INSTANCES, noon, '--data', root, '--as-of', NOON, '--json');
    expect(JSON.parse(res.stdout)).toMatchObject({ outcome: 'imported', superseded: null });
    const refs = (await manifestOf(root)).references ?? [];
    expect(refs.map((r) => `${r.kind} ${r.createdAt}`)).toEqual([
      'inventory 2024-03-01T00:00:00.000Z',
      'inventory 2024-03-01T12:00:00.000Z',
    ]);
  });

  it('refuses a bad file with the file and entry named, and loads nothing', async () => {
    const before = await manifestOf(root);
    const doc = JSON.parse(await readFile(INTERFACES, 'utf8'));
    doc.NetworkInterfaces[1].TagSet[0] = { Key: 'Name' };
    const bad = join(root, 'bad-interfaces.json');
    await writeFile(bad, JSON.stringify(doc));
    const res = await flowql('inventory', 'import', INSTANCES, bad, '--data', root, '--as-of', '2024-03-02T00:00:00Z');
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(
      'flowql: bad-interfaces.json: NetworkInterfaces[1].TagSet[0]: expected { Key, Value } strings, found {"Key":"Name"}\n',
    );
    expect(await manifestOf(root)).toEqual(before);
  });
});

describe('inventory names in the API', () => {
  const window = 'timeRange: { from: "2024-03-01T00:00:00Z", to: "2024-03-02T00:00:00Z" }';
  // The floating interface eni-…d4 (10.0.0.9) opens connections to redis-prod (10.0.0.20) at 10:00 and 13:00; the
  // records carry no instance id here, so only the inventory can say whose interface it was.
  const syn = (hms: string, port: number) =>
    rec({
      interface_id: 'eni-0ddddddddddddddd4',
      flow_direction: 'egress',
      srcaddr: '10.0.0.9',
      dstaddr: '10.0.0.20',
      srcport: port,
      dstport: 6379,
      tcp_flags: 2,
      start: t(`2024-03-01T${hms}`),
    });
  const RECORDS = [syn('10:00:00', 40000), syn('13:00:00', 40001)];
  let root: string;
  let api: Awaited<ReturnType<typeof testApi>>;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'flowql-inventory-api-'));
    await writeDerivedFixtureWarehouse(root, RECORDS);
    // The real import, into the fixture warehouse (it commits with the ledger beside the fixture's files).
    const scratch = await mkdtemp(join(tmpdir(), 'flowql-inventory-src-'));
    const noon = await interfacesAtNoon(scratch);
    const instancesNoon = await instancesAtNoon(scratch);
    for (const [files, asOf] of [
      [[INSTANCES, INTERFACES], MIDNIGHT],
      [[instancesNoon, noon], NOON],
    ] as const) {
      const res = await flowql('inventory', 'import', ...files, '--data', scratch, '--as-of', asOf);
      expect(res.code, res.stderr).toBe(0);
    }
    const made = await manifestOf(scratch);
    await cp(join(scratch, 'reference'), join(root, 'reference'), { recursive: true });
    const path = warehousePaths(root).manifest;
    const manifest = await manifestOf(root);
    await writeFile(
      path,
      JSON.stringify({ ...manifest, generation: manifest.generation + 1, references: made.references }),
    );
    api = await testApi(root);
  });
  afterAll(() => api?.db.closeSync());

  const QUERY = `{ handshakes(filter: { ${window} }) { nodes { start client { interfaceId name tags { key value }
      instanceType securityGroups { id name } } server { ip name } } } }`;

  it('names an end by the owner of its interface at the time: the new owner only from the second as-of', async () => {
    const nodes = (await gqlData<any>(api.yoga, QUERY)).handshakes.nodes;
    expect(nodes.map((n: any) => `${n.start} ${n.client.interfaceId} ${n.client.name}`).sort()).toEqual([
      '2024-03-01T10:00:00.000Z eni-0ddddddddddddddd4 payments-api',
      '2024-03-01T13:00:00.000Z eni-0ddddddddddddddd4 redis-prod',
    ]);
    const ten = nodes.find((n: any) => n.start.startsWith('2024-03-01T10'));
    expect(ten.client.tags).toEqual([
      { key: 'Name', value: 'payments-api' },
      { key: 'team', value: 'payments' },
    ]);
    // The owner's type and security groups, by the same snapshot: the interface's owner changed at noon.
    expect(
      nodes.map((n: any) => `${n.client.instanceType} ${n.client.securityGroups.map((g: any) => g.name)}`).sort(),
    ).toEqual(['r6g.large redis', 't3.medium payments-api']);
    expect(ten.client.securityGroups).toEqual([{ id: 'sg-0aaaaaaaaaaaaaaa1', name: 'payments-api' }]);
  });

  it("Flow.instanceName: the owner of the record's interface at its start", async () => {
    const data = await gqlData<any>(
      api.yoga,
      `{ flows(filter: { ${window} }) { nodes { start interfaceId instanceName } } }`,
    );
    expect(data.flows.nodes.map((n: any) => `${n.start} ${n.instanceName}`)).toEqual([
      '2024-03-01T10:00:00.000Z payments-api',
      '2024-03-01T13:00:00.000Z redis-prod',
    ]);
  });

  it('before the earliest snapshot, the earliest names an end from its attach or launch time; an unknown end has no name', async () => {
    const { db, ctx } = await openAnalyticsDb(root);
    try {
      const lookup = inventoryNames(ctx());
      const floating = (at: string) => ({ instanceId: null, interfaceId: 'eni-0ddddddddddddddd4', at: new Date(at) });
      const [beforeAttach, attached, launched, beforeLaunch, unknown, nat] = await Promise.all([
        // eni-…d4 was attached to payments-api at 2024-02-20T08:05 (Attachment.AttachTime): unnamed before it.
        lookup(floating('2024-02-20T08:04:59Z')),
        lookup(floating('2024-02-20T08:05:00Z')),
        // payments-api was launched at 2024-02-20T08:00 (LaunchTime).
        lookup({ instanceId: 'i-0aaaaaaaaaaaaaaa1', interfaceId: null, at: new Date('2024-02-20T08:00:00Z') }),
        lookup({ instanceId: 'i-0aaaaaaaaaaaaaaa1', interfaceId: null, at: new Date('2024-02-20T07:59:59Z') }),
        lookup({ instanceId: null, interfaceId: 'eni-0fffffffffffffff6', at: new Date('2024-03-01T10:00:00Z') }),
        lookup({ instanceId: null, interfaceId: 'eni-0eeeeeeeeeeeeeee5', at: new Date('2024-03-01T10:00:00Z') }),
      ]);
      expect([beforeAttach.name, attached.name, launched.name, beforeLaunch.name]).toEqual([
        null,
        'payments-api',
        'payments-api',
        null,
      ]);
      expect(unknown).toEqual({ name: null, tags: [], instanceType: null, securityGroups: [] });
      // A NAT gateway's interface is attached to no instance: its own Name tag, no type, its own (no) groups.
      expect(nat).toEqual({
        name: 'nat-a',
        tags: [{ key: 'Name', value: 'nat-a' }],
        instanceType: null,
        securityGroups: [],
      });
    } finally {
      db.closeSync();
    }
  });

  it('names an end known only by its address by the interface holding it then: an address that moved names its new owner', async () => {
    // The server 10.0.0.20 logged nothing: only its address is known. At noon it moved from redis-prod to payments-api.
    const nodes = (await gqlData<any>(api.yoga, QUERY)).handshakes.nodes;
    expect(nodes.map((n: any) => `${n.start} ${n.server.ip} ${n.server.name}`).sort()).toEqual([
      '2024-03-01T10:00:00.000Z 10.0.0.20 redis-prod',
      '2024-03-01T13:00:00.000Z 10.0.0.20 payments-api',
    ]);
    const { db, ctx } = await openAnalyticsDb(root);
    try {
      const lookup = inventoryNames(ctx());
      const at = (ip: string, time: string) => lookup({ instanceId: null, interfaceId: null, ip, at: new Date(time) });
      const names = await Promise.all([
        at('10.0.0.21', '2024-03-01T10:00:00Z'), // redis-prod's new address, first listed at noon: the earliest names it
        at('10.0.0.21', '2024-03-01T13:00:00Z'),
        at('10.0.1.10', '2024-03-01T13:00:00Z'), // the NAT gateway's, listed at midnight only: still its
        at('10.0.0.99', '2024-03-01T13:00:00Z'), // nobody's
        at('10.0.0.20', '2024-02-01T00:00:00Z'), // before its interface was attached to redis-prod (AttachTime)
      ]);
      expect(names.map((n) => n.name)).toEqual(['redis-prod', 'redis-prod', 'nat-a', null, null]);
      // The owner's tags and type come with the name.
      const moved = await at('10.0.0.20', '2024-03-01T13:00:00Z');
      expect([moved.instanceType, moved.tags.find((t) => t.key === 'team')?.value]).toEqual(['t3.medium', 'payments']);
    } finally {
      db.closeSync();
    }
  });

  it("tenancy: a key names only its accounts' resources", async () => {
    const { db, ctx } = await openAnalyticsDb(root);
    const as = (accounts: string[] | null) =>
      inventoryNames({ ...ctx(), warehouse: scopeWarehouse(createWarehouseReader(root), accounts) });
    const at = new Date('2024-03-01T10:00:00Z');
    const floating = { instanceId: null, interfaceId: 'eni-0ddddddddddddddd4', at };
    const theirs = { instanceId: 'i-0ccccccccccccccc3', interfaceId: null, at };
    try {
      expect((await as(['111111111111'])(floating)).name).toBe('payments-api');
      expect((await as(['111111111111'])(theirs)).name).toBeNull();
      expect((await as(['222222222222'])(floating)).name).toBeNull();
      expect((await as(['222222222222'])(theirs)).name).toBe('other-tenant-db');
      expect((await as(null)(theirs)).name).toBe('other-tenant-db');
    } finally {
      db.closeSync();
    }
    // And through the API: the other account's key sees none of account 1's handshakes, and so none of its names.
    const other = await testApi(root, { warehouse: scopeWarehouse(createWarehouseReader(root), ['222222222222']) });
    try {
      expect((await gqlData<any>(other.yoga, QUERY)).handshakes.nodes).toEqual([]);
    } finally {
      other.db.closeSync();
    }
  });

  it('one inventory statement per response that asks names, none for one that does not', async () => {
    const lookups = () =>
      api.log.lines.filter((l) => (l.obj as { statement?: string }).statement === 'inventory.lookup').length;
    const before = lookups();
    await gqlData<any>(api.yoga, `{ handshakes(filter: { ${window} }) { nodes { client { interfaceId } } } }`);
    expect(lookups()).toBe(before);
    await gqlData<any>(api.yoga, QUERY);
    expect(lookups()).toBe(before + 1);
  });
});
