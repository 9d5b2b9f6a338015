/**
 * Two tenants in one warehouse, for the access-control, dataset and operations tests, and an in-process
 * `flowql serve` (the real composition root: config, keys, DuckDB, yoga, HTTP handler) on a loopback port.
 *
 * Account A 111111111111 (us-east-1, 2024-05-01), 4 records:
 *   1  10:00:00  10.0.0.1:50000 -> 10.0.0.2:443   tcp SYN      1000 B  10 pkts  ACCEPT
 *   6  10:00:01  10.0.0.2:443   -> 10.0.0.1:50000 tcp SYN-ACK  2000 B  10 pkts  ACCEPT
 *   2  10:00:30  10.0.0.1:50001 -> 10.0.0.2:443   tcp          3000 B  20 pkts  ACCEPT
 *   3  11:00:00  10.0.0.3:40000 -> 10.0.0.2:22    tcp           500 B   5 pkts  REJECT  vpc_id 'vpc-"a",b' (CSV quoting)
 *   => records 4, bytes 6500, packets 45, accepted 3, rejected 1, 3 distinct sources; first 10:00:00, last 11:01:00.
 * Account B 222222222222 (eu-west-1, 2024-05-01), 2 records:
 *   4  10:15:00  10.9.0.1:1234 -> 10.9.0.2:443  2^53+1 B  1 pkt  ACCEPT
 *   5  12:00:00  10.9.0.1:1235 -> 10.9.0.2:80         7 B  1 pkt  ACCEPT
 *   => bytes 9007199254741000 (exact only as a string).
 * Every record lasts 60 s and was logged at the tenant's one interface.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { parseConfig, type ConfigFlags } from '../../src/config.ts';
import { startApiServer, type RunningServer } from '../../src/main.ts';
import { writeFixtureWarehouse, type FixtureRecord } from './warehouse-fixture.ts';

export const ACCOUNT_A = '111111111111';
export const ACCOUNT_B = '222222222222';
export const KEY_A = 'tenant-a-key-000000000001';
export const KEY_B = 'tenant-b-key-000000000002';
export const KEY_OPS = 'operator-key-000000000003';
export const KEY_PERSISTED = 'persisted-key-00000000004';

const at = (hms: string) => `2024-05-01T${hms}Z`;
const plus60 = (hms: string) => new Date(Date.parse(at(hms)) + 60_000).toISOString();

function rec(
  id: number,
  account: string,
  hms: string,
  src: string,
  sport: number,
  dst: string,
  dport: number,
  extra: Partial<FixtureRecord>,
): FixtureRecord {
  const a = account === ACCOUNT_A;
  return {
    account_id: account,
    region: a ? 'us-east-1' : 'eu-west-1',
    start_time: at(hms),
    end_time: plus60(hms),
    flow_id: id,
    version: 2,
    interface_id: a ? 'eni-0a0a0a0a0a0a0a0a1' : 'eni-0b0b0b0b0b0b0b0b1',
    instance_id: a ? 'i-0a0a0a0a0a0a0a0a1' : 'i-0b0b0b0b0b0b0b0b1',
    vpc_id: a ? 'vpc-0a0a0a0a' : 'vpc-0b0b0b0b',
    srcaddr: src,
    srcport: sport,
    dstaddr: dst,
    dstport: dport,
    protocol: 6,
    packets: 1,
    bytes: 1,
    action: 'ACCEPT',
    log_status: 'OK',
    ...extra,
  };
}

/** The six records above. */
export const TENANT_RECORDS: readonly FixtureRecord[] = [
  rec(1, ACCOUNT_A, '10:00:00', '10.0.0.1', 50000, '10.0.0.2', 443, { tcp_flags: 2, bytes: 1000, packets: 10 }),
  rec(6, ACCOUNT_A, '10:00:01', '10.0.0.2', 443, '10.0.0.1', 50000, { tcp_flags: 18, bytes: 2000, packets: 10 }),
  rec(2, ACCOUNT_A, '10:00:30', '10.0.0.1', 50001, '10.0.0.2', 443, { tcp_flags: 16, bytes: 3000, packets: 20 }),
  rec(3, ACCOUNT_A, '11:00:00', '10.0.0.3', 40000, '10.0.0.2', 22, {
    tcp_flags: 2,
    bytes: 500,
    packets: 5,
    action: 'REJECT',
    vpc_id: 'vpc-"a",b',
  }),
  rec(4, ACCOUNT_B, '10:15:00', '10.9.0.1', 1234, '10.9.0.2', 443, { bytes: 9007199254740993n }),
  rec(5, ACCOUNT_B, '12:00:00', '10.9.0.1', 1235, '10.9.0.2', 80, { bytes: 7 }),
];

/** A fresh warehouse holding TENANT_RECORDS, and a key file for A, B, an operator and a persisted-only key. */
export async function tenantWarehouse(): Promise<{ root: string; keysFile: string }> {
  const root = await mkdtemp(join(tmpdir(), 'flowql-tenants-'));
  await writeFixtureWarehouse(root, [...TENANT_RECORDS]);
  const keysFile = join(root, 'api-keys.json');
  await writeFile(
    keysFile,
    JSON.stringify({
      keys: [
        { key: KEY_A, accounts: [ACCOUNT_A], name: 'tenant-a' },
        { key: KEY_B, accounts: [ACCOUNT_B], name: 'tenant-b' },
        { key: KEY_OPS, accounts: ['*'], name: 'ops', scopes: ['graphql', 'datasets', 'metrics'] },
        { key: KEY_PERSISTED, accounts: [ACCOUNT_A], name: 'dashboard', persistedOnly: true },
      ],
    }),
  );
  return { root, keysFile };
}

/** Log lines the in-process server wrote. */
export type LogLines = Record<string, unknown>[];

/** Starts the real server in this process on a free loopback port; `lines` collects its JSON log lines. */
export async function startTestServer(flags: ConfigFlags): Promise<{ server: RunningServer; lines: LogLines }> {
  const lines: LogLines = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const config = parseConfig({}, { port: 0, graphiql: false, logLevel: 'debug', duckdbThreads: 1, ...flags });
  const server = await startApiServer(config, pino({ level: 'debug' }, sink));
  return { server, lines };
}

/** A served tenant fixture: its warehouse folder, the running server and the server's log lines. */
export interface TenantServer {
  readonly root: string;
  readonly server: RunningServer;
  readonly lines: LogLines;
}

/**
 * Serves a fresh tenant fixture (tenantWarehouse + startTestServer with its keys) for the calling test file: started
 * before its tests and handed to `ready`, closed and deleted after them. `moreFlags` may write files into the
 * warehouse folder first (a persisted-operations file, say).
 */
export function serveTenantFixture(
  ready: (fixture: TenantServer) => void,
  moreFlags: (root: string) => ConfigFlags | Promise<ConfigFlags> = () => ({}),
): void {
  let fixture: TenantServer | null = null;
  beforeAll(async () => {
    const w = await tenantWarehouse();
    const { server, lines } = await startTestServer({
      dataDir: w.root,
      apiKeysFile: w.keysFile,
      ...(await moreFlags(w.root)),
    });
    fixture = { root: w.root, server, lines };
    ready(fixture);
  });
  afterAll(async () => {
    if (!fixture) return;
    await fixture.server.close();
    await rm(fixture.root, { recursive: true, force: true });
  });
}
