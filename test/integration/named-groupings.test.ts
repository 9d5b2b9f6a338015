// Groupings by name (issue 13): flow aggregates grouped by SRC_/DST_NETWORK and SRC_/DST_AWS_SERVICE over a derived
// fixture warehouse with the shipped ip-ranges and networks snapshots. Expected values are written by hand next to the
// records and also computed independently here (a longest-prefix match in BigInt over the shipped files' prefixes),
// so a wrong rule in the SQL cannot also be the test's rule. Whole-day windows read flows_hourly (the tier keeps the
// addresses the lookups read), a window cut inside hours reads records too: both give the records' sums. The
// `networks` filter and the grouping agree; the datasets' by= equals GraphQL over a real port; each tenant's key sees
// the same names on its own records (references are not per account).
/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies are compared with literal values */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { RunningServer } from '../../src/main.ts';
import { rec, t, type FixtureRecord } from '../helpers/analytics-fixture.ts';
import { writeDerivedFixtureWarehouse } from '../helpers/derived-fixture.ts';
import { gql, gqlData, testApi } from '../helpers/graphql.ts';
import { addReferenceSnapshots, SHIPPED_IP_RANGES, SHIPPED_NETWORKS } from '../helpers/reference-fixture.ts';
import { startTestServer } from '../helpers/tenant-fixture.ts';

const A = '111111111111';
const B = '222222222222';
const KEY_A = 'named-groupings-key-a-0001';
const KEY_B = 'named-groupings-key-b-0002';
const KEY_ALL = 'named-groupings-key-all-03';

// Bytes are powers of two, so every group's sum says which records it holds.
const RECORDS: FixtureRecord[] = [
  // v5 naming S3 itself: the record's value (S3) and the ranges' (S3) agree.
  rec({
    interface_id: 'eni-a',
    srcaddr: '10.0.0.5',
    dstaddr: '52.216.1.1',
    pkt_dst_aws_service: 'S3',
    bytes: 1,
    start: t('2024-03-01T10:00:00'),
  }),
  // v2 to S3's /15: the ranges name it.
  rec({
    version: 2,
    interface_id: 'eni-a',
    srcaddr: '10.0.0.5',
    dstaddr: '52.216.9.9',
    bytes: 2,
    start: t('2024-03-01T10:01:00'),
  }),
  // DYNAMODB /22 inside AMAZON /21.
  rec({
    version: 2,
    interface_id: 'eni-a',
    srcaddr: '10.0.0.5',
    dstaddr: '52.94.2.2',
    bytes: 4,
    start: t('2024-03-01T10:02:00'),
  }),
  // From partner-acme (/24).
  rec({
    version: 2,
    interface_id: 'eni-a',
    srcaddr: '198.51.100.7',
    dstaddr: '10.0.0.5',
    bytes: 8,
    start: t('2024-03-01T10:03:00'),
  }),
  // From partner-acme-ntp (/27 inside the /24): the longer prefix.
  rec({
    version: 2,
    interface_id: 'eni-a',
    srcaddr: '198.51.100.100',
    dstaddr: '10.0.0.5',
    bytes: 16,
    start: t('2024-03-01T10:04:00'),
  }),
  // To an address no table knows.
  rec({
    version: 2,
    interface_id: 'eni-a',
    srcaddr: '10.0.0.5',
    dstaddr: '93.184.216.34',
    bytes: 32,
    start: t('2024-03-01T10:05:00'),
  }),
  // Through a NAT: the packet source (office-paris) names the end, not srcaddr (the NAT's own 10.0.1.9).
  rec({
    interface_id: 'eni-a',
    srcaddr: '10.0.1.9',
    dstaddr: '10.0.0.5',
    pkt_srcaddr: '203.0.113.5',
    pkt_dstaddr: '10.0.0.5',
    bytes: 64,
    start: t('2024-03-01T11:10:00'),
  }),
  // The record names EC2 for an address the ranges call S3: the record's own value wins.
  rec({
    interface_id: 'eni-a',
    srcaddr: '10.0.0.5',
    dstaddr: '52.216.3.3',
    pkt_dst_aws_service: 'EC2',
    bytes: 128,
    start: t('2024-03-01T12:00:00'),
  }),
  // IPv6: lab-v6 to EC2's /33 (listed under AMAZON too).
  rec({
    interface_id: 'eni-a',
    srcaddr: '2001:db8::10',
    dstaddr: '2600:1f18::5',
    bytes: 256,
    start: t('2024-03-01T13:30:00'),
  }),
  // A NODATA record: no addresses, the null group of every key.
  rec({
    interface_id: 'eni-a',
    srcaddr: null,
    dstaddr: null,
    bytes: null,
    packets: null,
    log_status: 'NODATA',
    start: t('2024-03-01T15:00:00'),
  }),
  // To on-prem-dc1 (a destination in one of your networks).
  rec({
    version: 2,
    interface_id: 'eni-a',
    srcaddr: '10.0.0.5',
    dstaddr: '192.0.2.53',
    bytes: 4096,
    start: t('2024-03-01T16:00:00'),
  }),
  // Account B: from on-prem-dc1; to DynamoDB's other /22; from an address only AMAZON's /24 holds to S3's IPv6 /39.
  rec({
    version: 2,
    account_id: B,
    interface_id: 'eni-b',
    srcaddr: '192.0.2.20',
    dstaddr: '10.1.0.5',
    bytes: 512,
    start: t('2024-03-01T14:00:00'),
  }),
  rec({
    version: 2,
    account_id: B,
    interface_id: 'eni-b',
    srcaddr: '10.1.0.5',
    dstaddr: '52.94.6.1',
    bytes: 1024,
    start: t('2024-03-01T14:05:00'),
  }),
  rec({
    version: 2,
    account_id: B,
    interface_id: 'eni-b',
    srcaddr: '2600:1f20::1',
    dstaddr: '2600:1fa0:8000::9',
    bytes: 2048,
    start: t('2024-03-01T14:10:00'),
  }),
];

// By hand, from the shipped files' prefixes (null: the records no name covers, the NODATA record's 0 bytes included).
const EXPECTED: Record<string, Record<string, number>> = {
  SRC_NETWORK: {
    'partner-acme': 8,
    'partner-acme-ntp': 16,
    'office-paris': 64,
    'lab-v6': 256,
    'on-prem-dc1': 512,
    null: 1 + 2 + 4 + 32 + 128 + 1024 + 2048 + 4096,
  },
  DST_NETWORK: { 'on-prem-dc1': 4096, null: 4095 },
  SRC_AWS_SERVICE: { AMAZON: 2048, null: 8191 - 2048 },
  DST_AWS_SERVICE: { S3: 1 + 2 + 2048, DYNAMODB: 4 + 1024, EC2: 128 + 256, null: 8 + 16 + 32 + 64 + 512 + 4096 },
};

// --- An independent longest-prefix match over the shipped files (BigInt arithmetic, no SQL) ---

function addressBits(text: string): { family: 4 | 6; value: bigint } {
  if (!text.includes(':')) {
    return { family: 4, value: text.split('.').reduce((v, o) => (v << 8n) | BigInt(Number(o)), 0n) };
  }
  const [head, tail = ''] = text.toLowerCase().split('::');
  const h = head ? head.split(':') : [];
  const tl = text.includes('::') && tail ? tail.split(':') : [];
  const groups = text.includes('::') ? [...h, ...Array(8 - h.length - tl.length).fill('0'), ...tl] : h;
  return { family: 6, value: groups.reduce((v, g) => (v << 16n) | BigInt(parseInt(g, 16)), 0n) };
}

interface Block {
  readonly family: 4 | 6;
  readonly first: bigint;
  readonly len: number;
  readonly name: string;
}

function block(cidr: string, name: string): Block {
  const [addr, len] = cidr.split('/');
  const { family, value } = addressBits(addr!);
  return { family, first: value, len: Number(len), name };
}

function inBlock(addr: string, b: Block): boolean {
  const { family, value } = addressBits(addr);
  const width = family === 4 ? 32n : 128n;
  return family === b.family && value >> (width - BigInt(b.len)) === b.first >> (width - BigInt(b.len));
}

/** The longest block holding `addr`; of equal ones a service before AMAZON, then by name. */
function longest(addr: string | null, blocks: readonly Block[]): string | null {
  if (!addr) return null;
  const holding = blocks.filter((b) => inBlock(addr, b));
  holding.sort(
    (x, y) =>
      y.len - x.len || Number(x.name === 'AMAZON') - Number(y.name === 'AMAZON') || x.name.localeCompare(y.name),
  );
  return holding[0]?.name ?? null;
}

async function shippedBlocks(): Promise<{ aws: Block[]; networks: Block[] }> {
  const ranges = JSON.parse(await readFile(SHIPPED_IP_RANGES, 'utf8'));
  const aws = [
    ...ranges.prefixes.map((p: any) => block(p.ip_prefix, p.service)),
    ...ranges.ipv6_prefixes.map((p: any) => block(p.ipv6_prefix, p.service)),
  ];
  const nets = parseYaml(await readFile(SHIPPED_NETWORKS, 'utf8'));
  return { aws, networks: nets.networks.map((n: any) => block(n.cidr, n.name)) };
}

/** Bytes per key of each named dimension, from the records and the blocks. */
function independentSums(records: readonly FixtureRecord[], blocks: { aws: Block[]; networks: Block[] }) {
  const packet = (r: FixtureRecord, side: 'src' | 'dst') =>
    ((r[`pkt_${side}addr`] ?? r[`${side}addr`]) as string | null | undefined) ?? null;
  const keyOf: Record<string, (r: FixtureRecord) => string | null> = {
    SRC_NETWORK: (r) => longest(packet(r, 'src'), blocks.networks),
    DST_NETWORK: (r) => longest(packet(r, 'dst'), blocks.networks),
    SRC_AWS_SERVICE: (r) => (r.pkt_src_aws_service as string | undefined) ?? longest(packet(r, 'src'), blocks.aws),
    DST_AWS_SERVICE: (r) => (r.pkt_dst_aws_service as string | undefined) ?? longest(packet(r, 'dst'), blocks.aws),
  };
  return Object.fromEntries(
    Object.entries(keyOf).map(([dim, key]) => {
      const sums: Record<string, number> = {};
      for (const r of records) {
        const k = String(key(r));
        sums[k] = (sums[k] ?? 0) + Number(r.bytes ?? 0);
      }
      return [dim, sums];
    }),
  );
}

// --- The API ---

const DAY = 'timeRange: { from: "2024-03-01T00:00:00Z", to: "2024-03-02T00:00:00Z" }';
// Cut inside hours: 10:02:30 to 13:45 keeps the records of 8 to 256 bytes.
const CUT = 'timeRange: { from: "2024-03-01T10:02:30Z", to: "2024-03-01T13:45:00Z" }';
const FIELD: Record<string, string> = {
  SRC_NETWORK: 'srcNetwork',
  DST_NETWORK: 'dstNetwork',
  SRC_AWS_SERVICE: 'srcAwsService',
  DST_AWS_SERVICE: 'dstAwsService',
};
const DIMS = Object.keys(FIELD);

let root: string;
let api: Awaited<ReturnType<typeof testApi>>;
let independent: Record<string, Record<string, number>>;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'flowql-named-groups-'));
  await writeDerivedFixtureWarehouse(root, RECORDS);
  await addReferenceSnapshots(root);
  api = await testApi(root);
  independent = independentSums(RECORDS, await shippedBlocks());
});
afterAll(async () => {
  api?.db.closeSync();
  await rm(root, { recursive: true, force: true });
});

/** A breakdown's rows as { key: bytes } ("null" for the null group), and the tiers it read. */
async function breakdown(dim: string, window = DAY, filter = '') {
  const res = await gql<any>(
    api.yoga,
    `{ flowBreakdown(filter: { ${window} ${filter} }, dimensions: [${dim}], limit: 100) { rows { key { ${FIELD[dim]} } label bytes } truncated } }`,
  );
  expect(res.errors).toBeUndefined();
  const rows = res.data.flowBreakdown.rows as any[];
  return {
    sums: Object.fromEntries(rows.map((r) => [String(r.key[FIELD[dim]!]), Number(r.bytes)])),
    labels: rows.map((r) => r.label),
    tiers: res.extensions?.cost?.tiers,
  };
}

describe('groupings by network and AWS service equal the sums of the records by the same lookup', () => {
  it('the hand-written sums and the independent lookup agree (the fixture is what it says)', () => {
    expect(independent).toEqual(EXPECTED);
  });

  it.each(DIMS)('breakdown by %s over a whole day (flows_hourly), the null group included', async (dim) => {
    const r = await breakdown(dim);
    expect(r.sums).toEqual(EXPECTED[dim]);
    expect(r.tiers).toEqual(['flows_hourly']);
  });

  it.each(DIMS)('breakdown by %s over a window cut inside hours (hourly rows and records)', async (dim) => {
    const kept = RECORDS.filter((x) => x.start >= t('2024-03-01T10:02:30') && x.start < t('2024-03-01T13:45:00'));
    expect(kept.map((x) => x.bytes)).toEqual([8, 16, 32, 64, 128, 256]);
    const want = independentSums(kept, await shippedBlocks())[dim];
    const r = await breakdown(dim, CUT);
    expect(r.sums).toEqual(want);
    expect(r.tiers).toEqual(['flows_hourly', 'flows']);
  });

  it('top-N by DST_AWS_SERVICE ranks the named groups and leaves the null group out', async () => {
    const data = await gqlData<any>(
      api.yoga,
      `{ flowTopN(filter: { ${DAY} }, by: DST_AWS_SERVICE, limit: 10) { by rows { key { dstAwsService } label bytes } } }`,
    );
    expect(data.flowTopN.rows.map((r: any) => `${r.label} ${r.bytes}`)).toEqual([
      'S3 2051',
      'DYNAMODB 1028',
      'EC2 384',
    ]);
  });

  it('DST_AWS_SERVICE is not the v5-only PKT_DST_AWS_SERVICE: the ranges name what the records do not', async () => {
    const data = await gqlData<any>(
      api.yoga,
      `{ flowBreakdown(filter: { ${DAY} }, dimensions: [DST_AWS_SERVICE, PKT_DST_AWS_SERVICE], limit: 100) { rows { label bytes } } }`,
    );
    expect(data.flowBreakdown.rows.map((r: any) => `${r.label} ${r.bytes}`)).toEqual([
      '(none) / (none) 4728',
      'S3 / (none) 2050',
      'DYNAMODB / (none) 1028',
      'EC2 / (none) 256',
      'EC2 / EC2 128',
      'S3 / S3 1',
    ]);
  });

  it('a breakdown by source and destination network together, and by a named key beside a column', async () => {
    const data = await gqlData<any>(
      api.yoga,
      `{ flowBreakdown(filter: { ${DAY} }, dimensions: [ACCOUNT, DST_AWS_SERVICE], orderBy: BYTES, limit: 100) { rows { label bytes } } }`,
    );
    expect(data.flowBreakdown.rows.map((r: any) => `${r.label} ${r.bytes}`)).toEqual([
      `${A} / (none) 4216`,
      `${B} / S3 2048`,
      `${B} / DYNAMODB 1024`,
      `${B} / (none) 512`,
      `${A} / EC2 384`,
      `${A} / DYNAMODB 4`,
      `${A} / S3 3`,
    ]);
  });

  it('a time series split by SRC_NETWORK: one series per network, each hour its records', async () => {
    const data = await gqlData<any>(
      api.yoga,
      `{ flowTimeSeries(filter: { ${DAY} }, interval: HOUR, groupBy: SRC_NETWORK, maxSeries: 10) { groupBy series { label points { time bytes } } } }`,
    );
    const series = Object.fromEntries(
      data.flowTimeSeries.series.map((s: any) => [
        s.label,
        s.points.map((p: any) => `${p.time.slice(11, 13)}:${p.bytes}`).join(' '),
      ]),
    );
    expect(series).toEqual({
      '(none)': '10:39 12:128 14:3072 15:0 16:4096',
      'lab-v6': '13:256',
      'office-paris': '11:64',
      'on-prem-dc1': '14:512',
      'partner-acme': '10:8',
      'partner-acme-ntp': '10:16',
    });
  });
});

describe('the networks filter and the grouping agree', () => {
  it.each(['partner-acme', 'partner-acme-ntp', 'office-paris', 'lab-v6', 'on-prem-dc1'])(
    'networks: [%s] keeps exactly the records either of whose ends the groupings name so',
    async (name) => {
      const [src, dst] = await Promise.all([breakdown('SRC_NETWORK'), breakdown('DST_NETWORK')]);
      const filtered = await gqlData<any>(
        api.yoga,
        `{ flowBreakdown(filter: { ${DAY} networks: ["${name}"] }, dimensions: [SRC_NETWORK, DST_NETWORK], limit: 100) { rows { key { srcNetwork dstNetwork } bytes } } }`,
      );
      const rows = filtered.flowBreakdown.rows as any[];
      // Every kept record is in the network at one end, by the grouping's own lookup.
      for (const r of rows) expect([r.key.srcNetwork, r.key.dstNetwork]).toContain(name);
      // No record has both ends in a network here, so the filter's bytes are the two groups' sums.
      const total = rows.reduce((n, r) => n + Number(r.bytes), 0);
      expect(total).toBe((src.sums[name] ?? 0) + (dst.sums[name] ?? 0));
      expect(total).toBe((EXPECTED.SRC_NETWORK![name] ?? 0) + (EXPECTED.DST_NETWORK![name] ?? 0));
    },
  );

  it('awsServices: ["S3"] keeps the records one of whose ends the AWS service keys call S3', async () => {
    const r = await breakdown('DST_AWS_SERVICE', DAY, 'awsServices: ["S3"]');
    expect(r.sums).toEqual({ S3: 2051 });
  });
});

describe('datasets by= over a real port, and what each key sees', () => {
  let server: RunningServer;
  beforeAll(async () => {
    const keysFile = join(root, 'api-keys.json');
    await writeFile(
      keysFile,
      JSON.stringify({
        keys: [
          { key: KEY_A, accounts: [A], name: 'a' },
          { key: KEY_B, accounts: [B], name: 'b' },
          { key: KEY_ALL, accounts: ['*'], name: 'all' },
        ],
      }),
    );
    ({ server } = await startTestServer({ dataDir: root, apiKeysFile: keysFile }));
  });
  afterAll(async () => server?.close());

  const get = async (path: string, key = KEY_ALL) => {
    const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
    return { status: res.status, text: await res.text() };
  };
  const post = async (query: string, key = KEY_ALL) => {
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
    });
    return (await res.json()) as any;
  };
  const URL_DAY = 'from=2024-03-01T00:00:00Z&to=2024-03-02T00:00:00Z';

  it('breakdown.csv?by=SRC_NETWORK / DST_NETWORK, topn.json?by=dst_aws_service and timeseries by=SRC_AWS_SERVICE equal GraphQL', async () => {
    const csv = await get(`/datasets/breakdown.csv?${URL_DAY}&by=SRC_NETWORK&values=BYTES`);
    expect(csv.status).toBe(200);
    const gqlRows = (
      await post(
        `{ flowBreakdown(filter: { ${DAY} }, dimensions: [SRC_NETWORK], limit: 100) { rows { key { srcNetwork } bytes } } }`,
      )
    ).data.flowBreakdown.rows.map((r: any) => `${r.key.srcNetwork ?? ''},${r.bytes}`);
    expect(csv.text).toBe(['src_network,bytes', ...gqlRows, ''].join('\n'));
    expect(gqlRows).toEqual([
      ',7335',
      'on-prem-dc1,512',
      'lab-v6,256',
      'office-paris,64',
      'partner-acme-ntp,16',
      'partner-acme,8',
    ]);
    const dst = await get(`/datasets/breakdown.csv?${URL_DAY}&by=DST_NETWORK&values=BYTES`);
    const gqlDst = (
      await post(
        `{ flowBreakdown(filter: { ${DAY} }, dimensions: [DST_NETWORK], limit: 100) { rows { key { dstNetwork } bytes } } }`,
      )
    ).data.flowBreakdown.rows.map((r: any) => `${r.key.dstNetwork ?? ''},${r.bytes}`);
    expect(dst.text).toBe(['dst_network,bytes', ...gqlDst, ''].join('\n'));
    expect(gqlDst).toEqual(['on-prem-dc1,4096', ',4095']);
    const topDst = await get(`/datasets/topn.csv?${URL_DAY}&by=DST_NETWORK&values=BYTES`);
    expect(topDst.text).toBe('dst_network,bytes\non-prem-dc1,4096\n');
    const top = await get(`/datasets/topn.json?${URL_DAY}&by=dst_aws_service&values=BYTES`);
    expect(JSON.parse(top.text)).toEqual([
      { dst_aws_service: 'S3', bytes: '2051' },
      { dst_aws_service: 'DYNAMODB', bytes: '1028' },
      { dst_aws_service: 'EC2', bytes: '384' },
    ]);
    const series = await get(`/datasets/timeseries.csv?${URL_DAY}&interval=DAY&by=SRC_AWS_SERVICE&values=BYTES`);
    expect(series.text).toBe(
      'bucket,src_aws_service,bytes\n2024-03-01T00:00:00Z,AMAZON,2048\n2024-03-01T00:00:00Z,,6143\n',
    );
  });

  it("each key sees the same names on its own accounts' records", async () => {
    const of = async (key: string) =>
      (await get(`/datasets/breakdown.csv?${URL_DAY}&by=ACCOUNT,DST_AWS_SERVICE&values=BYTES`, key)).text;
    expect(await of(KEY_A)).toBe(
      `account_id,dst_aws_service,bytes\n${A},,4216\n${A},EC2,384\n${A},DYNAMODB,4\n${A},S3,3\n`,
    );
    expect(await of(KEY_B)).toBe(`account_id,dst_aws_service,bytes\n${B},S3,2048\n${B},DYNAMODB,1024\n${B},,512\n`);
    const all = await of(KEY_ALL);
    expect(all.split('\n').slice(1).filter(Boolean).sort()).toEqual(
      [...(await of(KEY_A)).split('\n').slice(1), ...(await of(KEY_B)).split('\n').slice(1)].filter(Boolean).sort(),
    );
    const b = await post(`{ flowTopN(filter: { ${DAY} }, by: SRC_NETWORK) { rows { label bytes } } }`, KEY_B);
    expect(b.data.flowTopN.rows).toEqual([{ label: 'on-prem-dc1', bytes: '512' }]);
  });

  it('an unknown key is refused naming by=', async () => {
    const r = await get(`/datasets/breakdown.csv?${URL_DAY}&by=SRC_NETWORKS`);
    expect(r.status).toBe(400);
    expect(r.text).toContain('Invalid by');
  });
});
