// `flowql inventory fetch` through the real CLI and the real EC2 SDK client, against an EC2 Query API server on a
// loopback port (test/helpers/ec2-query-server.ts) serving the same AWS-shaped fixtures `inventory import` reads
// (test/fixtures/aws/inventory), one item a page. A fetch must give the very snapshot an import of the CLI's files
// gives at the same time (same version: importing the files afterwards changes nothing), read every page of each
// call, and fail with the call and region named, loading nothing, when the API refuses.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { warehousePaths, type Manifest } from '../../src/store/layout.ts';
import {
  AUTH_FAILURE,
  startEc2QueryServer,
  type Ec2Documents,
  type Ec2QueryServer,
} from '../helpers/ec2-query-server.ts';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '../../bin/flowql.js');
const FIXTURES = join(import.meta.dirname, '../fixtures/aws/inventory');
const FILES = ['describe-instances', 'describe-network-interfaces', 'describe-subnets', 'describe-vpcs'].map((f) =>
  join(FIXTURES, `${f}.json`),
);
const AS_OF = '2024-03-01T00:00:00Z';

/** Runs the CLI with `env` as its whole environment besides PATH (no credentials or profiles of this machine). */
async function flowql(env: Record<string, string>, ...args: string[]) {
  const home = await mkdtemp(join(tmpdir(), 'flowql-fetch-home-'));
  // No instance-metadata probe: outside EC2 it only waits for a timeout.
  const base = { PATH: process.env.PATH ?? '', HOME: home, AWS_EC2_METADATA_DISABLED: 'true' };
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env: { ...base, ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** The error line: on Node 20 the AWS SDK prints its Node version notice above it. */
const lastLine = (text: string) => text.trim().split('\n').pop();

const manifestOf = async (root: string) =>
  JSON.parse(await readFile(warehousePaths(root).manifest, 'utf8')) as Manifest;

describe('flowql inventory fetch (real CLI, real SDK, EC2 Query API on loopback)', () => {
  let ec2: Ec2QueryServer;
  let docs: Ec2Documents;
  const credentials = { AWS_ACCESS_KEY_ID: 'AKIAFLOWQLTEST000001', AWS_SECRET_ACCESS_KEY: 'flowql-test-secret' };

  beforeAll(async () => {
    const [instances, interfaces, subnets, vpcs] = await Promise.all(
      FILES.map(async (f) => JSON.parse(await readFile(f, 'utf8'))),
    );
    docs = {
      Reservations: instances.Reservations,
      NetworkInterfaces: interfaces.NetworkInterfaces,
      Subnets: subnets.Subnets,
      Vpcs: vpcs.Vpcs,
    };
    ec2 = await startEc2QueryServer(docs, 1);
  });
  afterAll(() => ec2?.close());

  it('imports every page of the four calls as the snapshot the CLI files give; importing the files again changes nothing', async () => {
    const root = await mkdtemp(join(tmpdir(), 'flowql-fetch-'));
    const fetched = await flowql(
      credentials,
      'inventory',
      'fetch',
      '--region',
      'us-east-1',
      '--ec2-endpoint',
      ec2.url,
      '--data',
      root,
      '--as-of',
      AS_OF,
      '--json',
    );
    expect(fetched.code, fetched.stderr).toBe(0);
    const summary = JSON.parse(fetched.stdout);
    expect(summary).toMatchObject({ outcome: 'imported', createdAt: '2024-03-01T00:00:00.000Z' });
    // One item a page: each call was paged through to its last item.
    const pages = (n: number) => Math.max(1, n);
    expect(ec2.calls).toEqual([
      ...Array(pages(docs.Reservations.length)).fill('DescribeInstances'),
      ...Array(pages(docs.NetworkInterfaces.length)).fill('DescribeNetworkInterfaces'),
      ...Array(pages(docs.Subnets.length)).fill('DescribeSubnets'),
      ...Array(pages(docs.Vpcs.length)).fill('DescribeVpcs'),
    ]);
    expect(ec2.calls.length).toBeGreaterThan(4);

    const imported = await flowql({}, 'inventory', 'import', ...FILES, '--data', root, '--as-of', AS_OF, '--json');
    expect(imported.code, imported.stderr).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ outcome: 'unchanged', version: summary.version });
    expect((await manifestOf(root)).references?.map((r) => `${r.kind} ${r.version}`)).toEqual([
      `inventory ${summary.version}`,
    ]);
  });

  it('without credentials: fails naming the call and the region, and loads nothing', async () => {
    const root = await mkdtemp(join(tmpdir(), 'flowql-fetch-denied-'));
    const calls = ec2.calls.length;
    const res = await flowql(
      {},
      'inventory',
      'fetch',
      '--region',
      'eu-west-1',
      '--ec2-endpoint',
      ec2.url,
      '--data',
      root,
      '--as-of',
      AS_OF,
    );
    expect(res.code).toBe(1);
    expect(lastLine(res.stderr)).toMatch(/^flowql: ec2 describe-instances \(eu-west-1\): .*credentials/i);
    expect(ec2.calls.length).toBe(calls);
    await expect(readFile(warehousePaths(root).manifest, 'utf8')).rejects.toThrow(/ENOENT/);
  });

  it('a refused call (AuthFailure from the API) is named with its message', async () => {
    const res = await flowql(
      { AWS_ACCESS_KEY_ID: 'AKIAFLOWQLTEST000001', AWS_SECRET_ACCESS_KEY: 'x', AWS_SESSION_TOKEN: 'y' },
      'inventory',
      'fetch',
      '--region',
      'us-east-1',
      '--ec2-endpoint',
      `${ec2.url}/refuse`,
      '--data',
      await mkdtemp(join(tmpdir(), 'flowql-fetch-refused-')),
    );
    expect(res.code).toBe(1);
    expect(lastLine(res.stderr)).toBe(`flowql: ec2 describe-instances (us-east-1): ${AUTH_FAILURE}`);
  });
});
