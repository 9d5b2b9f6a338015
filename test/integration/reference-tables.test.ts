// Reference tables end to end: `flowql ip-ranges import` / `flowql networks import` through the real CLI (re-import
// no-op, a bad file refused with nothing loaded, a newer snapshot superseding, an older one refused), longest-prefix
// lookups on IPv4 and IPv6 in real DuckDB over the imported Parquet, and the API: Flow and Endpoint names, the
// awsServices/networks filters, a new snapshot renaming history, and a tenant's key seeing the same names.
/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies are compared with literal values */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scopeManifest } from '../../src/auth/scoped-warehouse.ts';
import { referenceLookupQuery } from '../../src/store/queries/reference-lookup-query.ts';
import { warehousePaths, type Manifest } from '../../src/store/layout.ts';
import { openAnalyticsDb, rec, t } from '../helpers/analytics-fixture.ts';
import { writeDerivedFixtureWarehouse } from '../helpers/derived-fixture.ts';
import { gql, gqlData, testApi } from '../helpers/graphql.ts';
import { addReferenceSnapshots, SHIPPED_IP_RANGES, SHIPPED_NETWORKS } from '../helpers/reference-fixture.ts';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '../../bin/flowql.js');

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

/** The shipped excerpt with another syncToken and S3's prefix renamed: a "newer" snapshot. */
async function newerSnapshot(dir: string, syncToken: string, rename: string): Promise<string> {
  const doc = JSON.parse(await readFile(SHIPPED_IP_RANGES, 'utf8'));
  doc.syncToken = syncToken;
  doc.createDate = '2024-06-01-00-00-00';
  for (const p of doc.prefixes) if (p.service === 'S3') p.service = rename;
  const path = join(dir, `ip-ranges-${syncToken}.json`);
  await writeFile(path, JSON.stringify(doc));
  return path;
}

describe('flowql ip-ranges import / networks import (real CLI)', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'flowql-ref-cli-'));
  });

  it('imports the shipped snapshot once; the same syncToken again changes nothing', async () => {
    const first = await flowql('ip-ranges', 'import', SHIPPED_IP_RANGES, '--data', root, '--json');
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ outcome: 'imported', version: '1714662784', rows: 16 });
    const before = await manifestOf(root);
    expect(before.references).toMatchObject([
      { kind: 'ip_ranges', version: '1714662784', createdAt: '2024-05-02T15:13:04Z', rows: 16 },
    ]);
    const again = await flowql('ip-ranges', 'import', SHIPPED_IP_RANGES, '--data', root, '--json');
    expect(JSON.parse(again.stdout)).toMatchObject({ outcome: 'unchanged' });
    expect((await manifestOf(root)).generation).toBe(before.generation);
    const net = await flowql('networks', 'import', SHIPPED_NETWORKS, '--data', root, '--json');
    expect(JSON.parse(net.stdout)).toMatchObject({ outcome: 'imported', rows: 5 });
    const renet = await flowql('networks', 'import', SHIPPED_NETWORKS, '--data', root, '--json');
    expect(JSON.parse(renet.stdout)).toMatchObject({ outcome: 'unchanged' });
  });

  it('refuses a bad file with the entry named, and loads nothing', async () => {
    const before = await manifestOf(root);
    const bad = join(root, 'bad.json');
    const doc = JSON.parse(await readFile(SHIPPED_IP_RANGES, 'utf8'));
    doc.syncToken = '1999999999';
    doc.ipv6_prefixes[2].ipv6_prefix = '2600:1f18::/200';
    await writeFile(bad, JSON.stringify(doc));
    const res = await flowql('ip-ranges', 'import', bad, '--data', root);
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(
      'flowql: bad.json: ipv6_prefixes[2].ipv6_prefix: expected an IPv6 CIDR block, found "2600:1f18::/200"\n',
    );
    const badNet = join(root, 'bad.yaml');
    await writeFile(badNet, 'networks:\n  - cidr: 10.0.0.0/8\n    name: a\n  - cidr: 10.0.0.0/8\n    name: b\n');
    const net = await flowql('networks', 'import', badNet, '--data', root);
    expect(net.stderr).toBe('flowql: bad.yaml: networks[1].cidr: 10.0.0.0/8 is also networks[0]\n');
    const after = await manifestOf(root);
    expect(after.generation).toBe(before.generation);
    expect(after.references).toEqual(before.references);
    expect(await readdir(join(root, '_flowql/staging')).then((n) => n.filter((f) => f !== 'duckdb-spill'))).toEqual([]);
  });

  it('a newer syncToken supersedes (the old file is retired); an older one is refused', async () => {
    const newer = await newerSnapshot(root, '1717200000', 'S3_RENAMED');
    const res = await flowql('ip-ranges', 'import', newer, '--data', root, '--json');
    expect(JSON.parse(res.stdout)).toMatchObject({ outcome: 'imported', superseded: '1714662784' });
    const m = await manifestOf(root);
    const ranges = m.references!.find((r) => r.kind === 'ip_ranges')!;
    expect(ranges).toMatchObject({ version: '1717200000', createdAt: '2024-06-01T00:00:00Z' });
    expect(m.retired!.map((r) => r.path)).toEqual([expect.stringMatching(/^reference\/ip_ranges\/part-1714662784-/)]);
    const older = await flowql('ip-ranges', 'import', SHIPPED_IP_RANGES, '--data', root);
    expect(older.code).toBe(1);
    expect(older.stderr).toContain("syncToken 1714662784 is older than the loaded snapshot's 1717200000");
  });
});

describe('longest-prefix lookup over the imported Parquet', () => {
  it('names IPv4 and IPv6 addresses by their longest prefix, a service before AMAZON', async () => {
    const root = await mkdtemp(join(tmpdir(), 'flowql-ref-lookup-'));
    await writeDerivedFixtureWarehouse(root, []);
    await addReferenceSnapshots(root);
    const m = await manifestOf(root);
    const path = (kind: string) => join(root, m.references!.find((r) => r.kind === kind)!.path);
    const { run: query, db } = await openAnalyticsDb(root);
    try {
      const rows = await query(
        referenceLookupQuery({
          addresses: [
            '52.94.1.5',
            '52.94.6.1',
            '52.216.3.4',
            '52.94.8.1',
            '2600:1fa0:8000::1',
            '2600:1f20::1',
            '2600:1F18::5',
            '198.51.100.100',
            '198.51.100.5',
            '10.0.0.1',
          ],
          ipRanges: path('ip_ranges'),
          networks: path('networks'),
        }),
      );
      const named = Object.fromEntries(
        rows.map((r: any) => [
          r.addr,
          `${r.aws ? `${r.aws.service} ${r.aws.prefix}` : '-'} | ${r.network?.name ?? '-'}`,
        ]),
      );
      expect(named).toEqual({
        // DYNAMODB /22 inside AMAZON /21: the longer prefix.
        '52.94.1.5': 'DYNAMODB 52.94.0.0/22 | -',
        '52.94.6.1': 'DYNAMODB 52.94.4.0/22 | -',
        // The same /15 under AMAZON and S3: the service.
        '52.216.3.4': 'S3 52.216.0.0/15 | -',
        // S3 /39 inside AMAZON /24; elsewhere in the /24 only AMAZON.
        '2600:1fa0:8000::1': 'S3 2600:1fa0:8000::/39 | -',
        '2600:1f20::1': 'AMAZON 2600:1f00::/24 | -',
        // Upper-case text is the same address.
        '2600:1F18::5': 'EC2 2600:1f18::/33 | -',
        // partner-acme-ntp /27 inside partner-acme /24.
        '198.51.100.100': '- | partner-acme-ntp',
        '198.51.100.5': '- | partner-acme',
      });
    } finally {
      db.closeSync();
    }
  });
});

describe('names in the API', () => {
  const DAY = { from: '2024-03-01T00:00:00Z', to: '2024-03-02T00:00:00Z' };
  const window = `timeRange: { from: "${DAY.from}", to: "${DAY.to}" }`;
  // v5 record naming S3 itself (it wins over the ranges), a v2 record to the same S3 range (named by the ranges), one
  // to DynamoDB, one from a partner address, and one to an address no table knows.
  const RECORDS = [
    rec({
      interface_id: 'eni-a',
      srcaddr: '10.0.0.5',
      dstaddr: '52.216.1.1',
      srcport: 40000,
      dstport: 443,
      flow_direction: 'egress',
      pkt_dst_aws_service: 'S3',
      start: t('2024-03-01T10:00:00'),
    }),
    rec({
      version: 2,
      interface_id: 'eni-a',
      srcaddr: '10.0.0.5',
      dstaddr: '52.216.9.9',
      srcport: 40001,
      dstport: 443,
      start: t('2024-03-01T10:01:00'),
    }),
    rec({
      version: 2,
      interface_id: 'eni-a',
      srcaddr: '10.0.0.5',
      dstaddr: '52.94.2.2',
      srcport: 40002,
      dstport: 443,
      start: t('2024-03-01T10:02:00'),
    }),
    rec({
      version: 2,
      interface_id: 'eni-a',
      srcaddr: '198.51.100.7',
      dstaddr: '10.0.0.5',
      srcport: 50000,
      dstport: 22,
      start: t('2024-03-01T10:03:00'),
    }),
    rec({
      version: 2,
      interface_id: 'eni-a',
      srcaddr: '10.0.0.5',
      dstaddr: '93.184.216.34',
      srcport: 40003,
      dstport: 80,
      start: t('2024-03-01T10:04:00'),
    }),
  ];
  let root: string;
  let api: Awaited<ReturnType<typeof testApi>>;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'flowql-ref-api-'));
    await writeDerivedFixtureWarehouse(root, RECORDS);
    await addReferenceSnapshots(root);
    api = await testApi(root);
  });
  afterAll(() => api?.db.closeSync());

  const flows = async (filter = '') =>
    (
      await gqlData<any>(
        api.yoga,
        `{ flows(filter: { ${window} ${filter} }) { nodes { srcAddr dstAddr dstAwsService dstAwsRange { region prefix }
            srcNetwork { name attributes { key value } } } } }`,
      )
    ).flows.nodes;

  it("Flow: the record's pkt-dst-aws-service wins, else the ranges name the address; networks name theirs", async () => {
    expect(
      (await flows()).map(
        (n: any) => `${n.srcAddr} ${n.dstAddr} ${n.dstAwsService} ${n.dstAwsRange?.prefix} ${n.srcNetwork?.name}`,
      ),
    ).toEqual([
      '10.0.0.5 52.216.1.1 S3 52.216.0.0/15 undefined',
      '10.0.0.5 52.216.9.9 S3 52.216.0.0/15 undefined',
      '10.0.0.5 52.94.2.2 DYNAMODB 52.94.0.0/22 undefined',
      '198.51.100.7 10.0.0.5 null undefined partner-acme',
      '10.0.0.5 93.184.216.34 null undefined undefined',
    ]);
    expect((await flows()).at(3).srcNetwork.attributes).toEqual([
      { key: 'kind', value: 'partner' },
      { key: 'owner', value: 'acme' },
    ]);
  });

  it('filters flows by awsServices and networks', async () => {
    expect((await flows('awsServices: ["S3"]')).map((n: any) => n.dstAddr)).toEqual(['52.216.1.1', '52.216.9.9']);
    expect((await flows('awsServices: ["DYNAMODB", "AMAZON"]')).map((n: any) => n.dstAddr)).toEqual(['52.94.2.2']);
    expect((await flows('networks: ["partner-acme"]')).map((n: any) => n.srcAddr)).toEqual(['198.51.100.7']);
    expect(await flows('networks: ["office-paris"]')).toEqual([]);
  });

  it('Endpoint: edges name their servers from the ranges', async () => {
    const data = await gqlData<any>(
      api.yoga,
      `{ trafficEdges(filter: { ${window} awsServices: ["S3", "DYNAMODB"] }) { nodes { server { ip kind awsService awsRange { service } } } } }`,
    );
    const servers = data.trafficEdges.nodes.map((n: any) => `${n.server.ip} ${n.server.kind} ${n.server.awsService}`);
    expect(servers.sort()).toEqual([
      '52.216.1.1 AWS_SERVICE S3',
      '52.216.9.9 EXTERNAL S3',
      '52.94.2.2 EXTERNAL DYNAMODB',
    ]);
  });

  it('a newer snapshot renames history; datasets says which snapshot is loaded', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'flowql-ref-newer-'));
    await addReferenceSnapshots(root, { ipRanges: await newerSnapshot(dir, '1717200000', 'S3_RENAMED') });
    const names = (await flows()).map((n: any) => n.dstAwsService);
    // The v5 record keeps its own S3; the v2 one is renamed by the new snapshot. The networks snapshot stays.
    expect(names).toEqual(['S3', 'S3_RENAMED', 'DYNAMODB', null, null]);
    const res = await gql<any>(api.yoga, '{ datasets { table snapshot { version createdAt source rows } } }');
    expect(res.data.datasets.filter((d: any) => d.snapshot)).toEqual([
      {
        table: 'IP_RANGES',
        snapshot: {
          version: '1717200000',
          createdAt: '2024-06-01T00:00:00.000Z',
          source: 'ip-ranges-1717200000.json',
          rows: 16,
        },
      },
      {
        table: 'NETWORKS',
        snapshot: { version: '52e2b9230f14f076', createdAt: expect.any(String), source: 'demo-networks.yaml', rows: 5 },
      },
    ]);
  });

  it('tenancy: a scoped manifest keeps the snapshots (names are not per account) and only its own files', async () => {
    const m = await manifestOf(root);
    const scoped = scopeManifest(m, ['999999999999']);
    expect(scoped.files).toEqual([]);
    expect(scoped.references).toEqual(m.references);
  });
});
