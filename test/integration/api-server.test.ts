/**
 * The API over a real loopback port: `flowql serve` as a child process (CLI, config, composition root, http server,
 * graceful shutdown on SIGTERM), and data committed while it runs becoming visible without a restart.
 * Fixture: flow 1 (2024-05-01T10:00:00Z, 10.0.0.1 -> 10.0.0.2:443, 2^53 + 1 bytes); later flow 2 (same day, 11:00).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFixtureWarehouse } from '../helpers/warehouse-fixture.ts';

const record = (id: number, start: string) => ({
  account_id: '111111111111',
  region: 'us-east-1',
  start_time: start,
  flow_id: id,
  srcaddr: '10.0.0.1',
  dstaddr: '10.0.0.2',
  dstport: 443,
  protocol: 6,
  bytes: 9007199254740993n,
  log_status: 'OK',
});

let root: string;
let child: ReturnType<typeof spawn>;
let url: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'flowql-serve-'));
  await writeFixtureWarehouse(root, [record(1, '2024-05-01T10:00:00Z')]);
  child = spawn(
    process.execPath,
    ['bin/flowql.js', 'serve', '--data', root, '--port', '0', '--no-graphiql', '--log-level', 'info'],
    {
      cwd: join(import.meta.dirname, '../..'),
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  url = await new Promise<string>((ok, fail) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const entry = JSON.parse(line) as { msg?: string; url?: string };
      if (entry.msg === 'flowql API listening' && entry.url) ok(entry.url);
    });
    child.once('exit', (code) => fail(new Error(`flowql serve exited early with ${code}`)));
  });
});

afterAll(async () => {
  if (child.exitCode === null) child.kill('SIGKILL');
  await rm(root, { recursive: true, force: true });
});

async function post(query: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  return {
    status: res.status,
    body: (await res.json()) as {
      data?: { flows: { nodes: { flowId: string; bytes: string }[] } };
      extensions?: { cost?: Record<string, number> };
    },
  };
}

describe('flowql serve over HTTP', () => {
  const q = '{ flows(filter: { timeRange: { from: "2024-05-01", to: "2024-05-02" } }) { nodes { flowId bytes } } }';

  it('answers flows on /graphql with exact BigInt strings and a cost extension', async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
    const { status, body } = await post(q);
    expect(status).toBe(200);
    expect(body.data?.flows.nodes).toEqual([{ flowId: '1', bytes: '9007199254740993' }]);
    expect(body.extensions?.cost).toMatchObject({ partitionsScanned: 1, filesScanned: 1, rowsReturned: 1 });
  });

  it('picks up newly committed data without a restart', async () => {
    await writeFixtureWarehouse(root, [record(2, '2024-05-01T11:00:00Z')]);
    const { body } = await post(q);
    expect(body.data?.flows.nodes.map((n) => n.flowId)).toEqual(['1', '2']);
  });

  it('shuts down cleanly on SIGTERM', async () => {
    const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
