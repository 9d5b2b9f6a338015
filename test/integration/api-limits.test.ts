/**
 * The API's limits over a real loopback port (the server as `flowql serve` builds it, in this process): GraphiQL's
 * schema request passes the default limits unless introspection is off; the work of a request is bounded (estimate
 * before execution, time budget that stops its statements, response cap, fair queue); hostile documents and cursors
 * answer typed errors.
 * Fixtures: the tenant warehouse of test/helpers/tenant-fixture.ts (six records on 2024-05-01), no API keys; for the
 * slow statements, the same plus 24 partitions (2024-05-02..25) of 600,000 records each whose port pairs are all
 * distinct, so that a breakdown by port pair of all of them takes about a second on an idle machine.
 */
import { copyFile, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { buildClientSchema, type IntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/main.ts';
import { partitionDir, warehousePaths, type Manifest } from '../../src/store/layout.ts';
import { KEY_A, KEY_OPS, startTestServer, tenantWarehouse, type LogLines } from '../helpers/tenant-fixture.ts';
import { writeFixtureWarehouse } from '../helpers/warehouse-fixture.ts';
import { GRAPHIQL_INTROSPECTION } from '../helpers/graphiql-introspection.ts';

interface Body<T = Record<string, unknown>> {
  data?: T | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
  extensions?: { cost?: Record<string, number> };
}

let root: string;
let keysFile: string;
let server: RunningServer;
let lines: LogLines;

beforeAll(async () => {
  ({ root, keysFile } = await tenantWarehouse());
  ({ server, lines } = await startTestServer({ dataDir: root })); // default limits: --max-depth 12, --max-cost 200000
});
afterAll(async () => {
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

async function post<T = Record<string, unknown>>(
  base: string,
  query: string,
  variables: Record<string, unknown> = {},
  key?: string,
) {
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      ...(key ? { authorization: `Bearer ${key}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: (await res.json()) as Body<T> };
}

describe('introspection', () => {
  it("answers GraphiQL's schema request under the default limits, with a schema GraphiQL can build", async () => {
    const { status, body } = await post<IntrospectionQuery>(server.url, GRAPHIQL_INTROSPECTION);
    expect(body.errors).toBeUndefined();
    expect(status).toBe(200);
    const client = buildClientSchema(body.data!);
    expect(client.getQueryType()?.name).toBe('Query');
    expect(Object.keys(client.getQueryType()!.getFields())).toContain('flowTopN');
    expect(client.getType('BigInt')?.description).toMatch(/always serialised as a JSON string of decimal digits/);
  });

  it('still measures the real fields of an operation that introspects', async () => {
    const fields = 'flowId srcAddr dstAddr srcPort dstPort protocol packets bytes action logStatus accountId region';
    const flows = (n: number) =>
      Array.from({ length: n }, (_, i) => `f${i}: flows(filter: {}, first: 1000) { nodes { ${fields} } }`).join(' ');
    // Each alias costs 1 + 1000 + 12 x 1000 = 13001: 15 of them pass --max-cost 200000, 16 do not.
    const fits = await post(
      server.url,
      `{ __schema { types { name } } ${flows(1).replace('first: 1000', 'first: 1')} }`,
    );
    expect(fits.body.errors).toBeUndefined();
    const { body } = await post(server.url, `{ __schema { types { name fields { name } } } ${flows(16)} }`);
    expect(body.data ?? null).toBeNull();
    expect(body.errors?.[0]?.extensions).toMatchObject({
      code: 'QUERY_TOO_COMPLEX',
      limit: 200_000,
      cost: 16 * 13_001,
    });
  });

  it('is refused with --no-introspection', async () => {
    const off = await startTestServer({ dataDir: root, introspection: false });
    try {
      const { body } = await post(off.server.url, GRAPHIQL_INTROSPECTION);
      expect(body.data ?? null).toBeNull();
      expect(body.errors?.[0]?.message).toMatch(/introspection/i);
      expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED' });
    } finally {
      await off.server.close();
    }
  });
});

describe('work bounds', () => {
  const day = 'filter: { timeRange: { from: "2024-05-01", to: "2024-05-02" } }';
  const aliases = (n: number, field: (i: number) => string) =>
    `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${field(i)}`).join(' ')} }`;
  const statementLines = (lines: LogLines) => lines.filter((l) => typeof l.statement === 'string');

  it('refuses alias and limit abuse before any SQL runs, saying what to reduce', async () => {
    const before = statementLines(lines).length;
    const cases = [
      aliases(
        100,
        () => `flowBreakdown(${day}, dimensions: [SRC_ADDR, DST_ADDR], limit: 10000) { rows { label value } }`,
      ),
      aliases(500, () => `flowTopN(${day}, by: DST_PORT, limit: 1000) { rows { label value } }`),
      aliases(
        6,
        () =>
          `flowBreakdown(${day}, dimensions: [SRC_ADDR], limit: 10000) { rows { key { srcAddr dstAddr } label value } }`,
      ),
    ];
    for (const query of cases) {
      const started = performance.now();
      const { body } = await post(server.url, query);
      expect(performance.now() - started).toBeLessThan(1000);
      expect(body.data ?? null).toBeNull();
      expect(body.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX');
      expect(body.extensions?.cost).toMatchObject({ filesScanned: 0, rowsReturned: 0 });
    }
    const [breakdowns, topN, wide] = await Promise.all(cases.map((q) => post(server.url, q)));
    expect(breakdowns!.body.errors!.map((e) => e.message)).toEqual([
      'The operation would run 100 statements (each root field runs at least one, aliases included); the limit is 16 (--max-statements): ask for fewer root fields or split the operation.',
      expect.stringMatching(
        /^Query cost 3000100 exceeds the limit of 200000 \(each field costs 1 per row it may return/,
      ),
    ]);
    // 500 aliases are refused as a document already (more than 10,000 tokens).
    expect(topN!.body.errors?.[0]?.message).toMatch(/more than 10000 tokens/);
    // Six statements are allowed, but 6 x (1 + 10000 x 6) rows of fields are not.
    expect(wide!.body.errors?.[0]?.extensions).toMatchObject({ cost: 6 * 60_001, limit: 200_000 });
    expect(statementLines(lines).length).toBe(before);
  });

  it('answers RESPONSE_TOO_LARGE past --max-response-bytes, and under it as usual', async () => {
    const capped = await startTestServer({ dataDir: root, maxResponseBytes: 1024 });
    try {
      const page = (fields: string) => `{ flows(${day}) { nodes { ${fields} } } }`;
      const small = await post(capped.server.url, page('flowId'));
      expect(small.body.errors).toBeUndefined();
      // Six records of every field: the rows alone pass 1024 bytes, so the request stops while it runs.
      const all =
        'flowId accountId region srcAddr dstAddr srcPort dstPort protocol packets bytes start end action logStatus vpcId subnetId instanceId interfaceId tcpFlags tcpFlagNames';
      const { body } = await post(capped.server.url, page(all));
      expect(body.data ?? null).toBeNull();
      expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'RESPONSE_TOO_LARGE', limit: 1024 });
      expect(body.errors?.[0]?.message).toMatch(/^the response would exceed 1024 bytes .*--max-response-bytes/);
      // Fields that read no rows but still pass the cap once serialised: refused when the response is measured.
      const typenames = aliases(100, () => '__typename');
      const measured = await post(capped.server.url, typenames);
      expect(measured.body.errors?.[0]?.extensions).toMatchObject({ code: 'RESPONSE_TOO_LARGE', limit: 1024 });
      expect(measured.body.errors?.[0]?.message).toMatch(/\(the finished response: about \d+;/);
    } finally {
      await capped.server.close();
    }
  });
});

describe('hostile documents and cursors', () => {
  it('answers BAD_USER_INPUT naming `after` for a cursor with a huge timestamp or id', async () => {
    const cursor = (text: string) => Buffer.from(text).toString('base64url');
    for (const text of [
      'f1:START_TIME_ASC:99999999999999999999:1',
      'f1:START_TIME_ASC:1714557600000000:99999999999999999999',
      `f1:START_TIME_ASC:${'9'.repeat(5000)}:1`,
      'f1:START_TIME_ASC:-99999999999999999:1',
    ]) {
      const { body } = await post(
        server.url,
        `{ flows(filter: { timeRange: { from: "2024-05-01", to: "2024-05-02" } }, after: "${cursor(text)}") { nodes { flowId } } }`,
      );
      expect(body.errors?.[0]?.extensions, text.slice(0, 60)).toMatchObject({
        code: 'BAD_USER_INPUT',
        argument: 'after',
      });
      expect(body.errors?.[0]?.message.length).toBeLessThan(400);
    }
  });

  it('refuses 10,000 nested inline fragments as too complex, never as a crash', async () => {
    const nested = `{ ${'... on Query { '.repeat(10_000)}__typename${' }'.repeat(10_000)} }`;
    const { status, body } = await post(server.url, nested);
    expect(status).toBeLessThan(500);
    expect(body.errors).toEqual([
      expect.objectContaining({
        message:
          'The document nests { } or [ ] more than 64 levels deep (line 1): nest selections, fragments and values less.',
        extensions: expect.objectContaining({ code: 'QUERY_TOO_COMPLEX', limit: 64 }),
      }),
    ]);
    const lists = await post(
      server.url,
      `{ flows(filter: { accountIds: ${'['.repeat(50_000)} }) { nodes { flowId } } }`,
    );
    expect(lists.body.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX' });
    // The server is still fine.
    expect((await post(server.url, '{ __typename }')).body).toMatchObject({ data: { __typename: 'Query' } });
  });
});

/**
 * Adds `copies` partitions (2024-05-02 onwards, account 333333333333) of `rows` records each, written once by DuckDB
 * and copied: srcport/dstport pairs all distinct, start times spread over the first day.
 */
async function addSlowPartitions(root: string, rows: number, copies: number): Promise<void> {
  const [seed] = await writeFixtureWarehouse(root, [
    {
      account_id: '333333333333',
      start_time: '2024-05-02T00:00:00Z',
      srcaddr: '10.3.0.1',
      dstaddr: '10.3.0.2',
      srcport: 1,
      dstport: 443,
      protocol: 6,
      bytes: 100,
      packets: 1,
      action: 'ACCEPT',
      log_status: 'OK',
    },
  ]);
  const first = join(root, seed!.path);
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    await c.run(`COPY (SELECT * REPLACE (CAST(i % 65521 AS INTEGER) AS srcport, CAST(i * 13 % 65519 AS INTEGER) AS dstport,
      start_time + to_microseconds(CAST(i * 86400000000 // ${rows} AS BIGINT)) AS start_time, CAST(i + 1 AS BIGINT) AS flow_id,
      CAST(i + 2 AS INTEGER) AS source_line) FROM read_parquet('${first}'), range(${rows}) t(i)) TO '${first}.tmp' (FORMAT parquet)`);
  } finally {
    c.closeSync();
    db.closeSync();
  }
  await rename(`${first}.tmp`, first);
  const { size } = await stat(first);
  const paths = warehousePaths(root);
  const manifest = JSON.parse(await readFile(paths.manifest, 'utf8')) as Manifest;
  const files = manifest.files.map((f) => (f.path === seed!.path ? { ...f, rows, bytes: size } : f));
  for (let d = 1; d < copies; d++) {
    const date = `2024-05-${String(2 + d).padStart(2, '0')}`;
    const path = `${partitionDir('flows', '333333333333', 'us-east-1', date)}/part-copy.parquet`;
    await mkdir(dirname(join(root, path)), { recursive: true });
    await copyFile(first, join(root, path));
    files.push({ ...seed!, path, date, rows, bytes: size });
  }
  await writeFile(paths.manifest, JSON.stringify({ ...manifest, generation: manifest.generation + 1, files }));
}

describe('slow statements', () => {
  let slowServer: RunningServer;
  let slowLines: LogLines;
  // 24 partitions: one breakdown takes ~0.8 s on an idle 2-core machine (~0.2 s over 6 partitions let 16 of them
  // finish inside the 2.5 s budget when the machine was quiet), so the budget is what ends these requests.
  const week = 'filter: { timeRange: { from: "2024-05-02", to: "2024-05-26" } }';
  /** A breakdown of all six big partitions; `limit` differs per alias so the result cache cannot share them. */
  const slow = (i: number) =>
    `s${i}: flowBreakdown(${week}, dimensions: [SRC_PORT, DST_PORT], limit: ${1000 - i}) { rows { value } }`;
  const ended = (name: string) =>
    slowLines.filter((l) => l.statement === name && /^query( interrupted| dropped| failed)?$/.test(String(l.msg)));

  beforeAll(async () => {
    await addSlowPartitions(root, 600_000, 24);
    // With API keys, so that two clients can be told apart (the statement queue takes turns between keys).
    ({ server: slowServer, lines: slowLines } = await startTestServer({
      dataDir: root,
      apiKeysFile: keysFile,
      queryTimeoutMs: 2500,
      resultCacheMb: 0,
    }));
  });
  afterAll(async () => {
    await slowServer?.close();
  });

  it('stops the statements of a request an error has already answered', async () => {
    const started = slowLines.length;
    const { body } = await post(
      slowServer.url,
      `{ ${slow(0)} bad: flows(${week}, after: "not-a-cursor") { nodes { flowId } } }`,
      {},
      KEY_OPS,
    );
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'after' });
    const answered = performance.now();
    // The breakdown was running when the error answered the request: it is stopped, not left to finish.
    while (ended('flows.breakdown').length === 0 && performance.now() - answered < 10_000)
      await new Promise((r) => setTimeout(r, 20));
    const line = slowLines.slice(started).find((l) => l.statement === 'flows.breakdown' && l.msg !== 'query');
    expect(line?.msg).toMatch(/^query (interrupted|dropped)$/);
    expect(performance.now() - answered).toBeLessThan(2000);
  });

  it("drops a timed-out request's queued statements and stops its running ones before answering QUERY_TIMEOUT", async () => {
    slowLines.length = 0;
    // 16 statements of about a second each on one thread cannot end within 2.5 s.
    const { body } = await post(
      slowServer.url,
      `{ ${Array.from({ length: 16 }, (_, i) => slow(i)).join(' ')} }`,
      {},
      KEY_OPS,
    );
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TIMEOUT', budgetMs: 2500 });
    // Within the moment interrupt() takes, every statement of the request has ended in DuckDB.
    const answered = performance.now();
    while (ended('flows.breakdown').length < 16 && performance.now() - answered < 10_000)
      await new Promise((r) => setTimeout(r, 50));
    expect(performance.now() - answered).toBeLessThan(2000);
    const lines = ended('flows.breakdown');
    expect(lines).toHaveLength(16);
    expect(lines.filter((l) => l.msg === 'query dropped').length).toBeGreaterThan(0);
  });

  it("answers another client's cheap query while one client's many slow statements queue", async () => {
    slowLines.length = 0;
    // One client (the operator's key) asks for 8 slow statements; alone, it takes every slot. Another client (tenant
    // A's key) then asks a cheap question: it gets the next slot that frees, not the one after the first's 8.
    const heavy = post(slowServer.url, `{ ${Array.from({ length: 8 }, (_, i) => slow(i)).join(' ')} }`, {}, KEY_OPS);
    await new Promise((r) => setTimeout(r, 300));
    const { body } = await post(
      slowServer.url,
      '{ flowSummary(filter: { timeRange: { from: "2024-05-01", to: "2024-05-02" } }) { records } }',
      {},
      KEY_A,
    );
    const cheapAt = Date.now();
    expect(body).toMatchObject({ data: { flowSummary: { records: expect.stringMatching(/^[1-9]\d*$/) } } });
    await heavy;
    // Statements of the first client that had ended when the cheap one was answered: at most the slots they held
    // when it arrived (--max-running-statements, 4), never the 8 they had asked for.
    const finishedBefore = ended('flows.breakdown').filter((l) => Number(l.time) < cheapAt);
    expect(finishedBefore.length).toBeLessThanOrEqual(4);
  });

  it("serves one client's requests oldest first, while another client still gets every other turn", async () => {
    // One slot: statements run one at a time, so the order of their log lines is the order they were granted.
    const { server: one, lines: oneLines } = await startTestServer({
      dataDir: root,
      apiKeysFile: keysFile,
      maxRunningStatements: 1,
      queryTimeoutMs: 120_000,
      resultCacheMb: 0,
    });
    try {
      const aliases = (n: number, field: (i: number) => string) =>
        `{ ${Array.from({ length: n }, (_, i) => field(i)).join(' ')} }`;
      // Client A (the operator's key): an older request of three slow breakdowns, then a newer one of three top-Ns.
      const older = post(one.url, aliases(3, slow), {}, KEY_OPS).then((r) => ({ ...r, at: performance.now() }));
      await new Promise((r) => setTimeout(r, 150));
      const newer = post(
        one.url,
        aliases(
          3,
          (i) => `t${i}: flowTopN(${week}, by: SRC_PORT, metric: RECORDS, limit: ${10 + i}) { rows { records } }`,
        ),
        {},
        KEY_OPS,
      ).then((r) => ({ ...r, at: performance.now() }));
      await new Promise((r) => setTimeout(r, 150));
      // Client B (tenant A's key), while A's first breakdown still runs: two summaries.
      const day = 'timeRange: { from: "2024-05-01", to: "2024-05-02" }';
      const other = post(
        one.url,
        `{ all: flowSummary(filter: { ${day} }) { records } accepted: flowSummary(filter: { ${day}, actions: [ACCEPT] }) { records } }`,
        {},
        KEY_A,
      ).then((r) => ({ ...r, at: performance.now() }));
      const [o, n, b] = await Promise.all([older, newer, other]);
      for (const { body } of [o, n, b]) expect(body.errors).toBeUndefined();
      const order = oneLines
        .filter((l) => l.msg === 'query' && /^flows\.(breakdown|topN|summary)$/.test(String(l.statement)))
        .map((l) => l.statement);
      // Between clients, turns alternate as before: B's statements go second and fourth, not after A's six. Within
      // A, the older request's three breakdowns all go before the newer one's first top-N (taking turns between the
      // two requests, A's order was breakdown, top-N, breakdown, top-N, breakdown, top-N).
      expect(order).toEqual([
        'flows.breakdown',
        'flows.summary',
        'flows.breakdown',
        'flows.summary',
        'flows.breakdown',
        'flows.topN',
        'flows.topN',
        'flows.topN',
      ]);
      expect(b.at).toBeLessThan(o.at);
      expect(o.at).toBeLessThan(n.at);
    } finally {
      await one.close();
    }
  });

  it('stops the statements of a request whose client hung up', async () => {
    slowLines.length = 0;
    const controller = new AbortController();
    const asked = fetch(`${slowServer.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY_OPS}` },
      body: JSON.stringify({ query: `{ ${Array.from({ length: 4 }, (_, i) => slow(i)).join(' ')} }` }),
      signal: controller.signal,
    }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 500)); // the statements are running (each takes ~0.8 s or more)
    controller.abort();
    const hungUp = performance.now();
    expect(await asked).toBeInstanceOf(Error);
    while (ended('flows.breakdown').length < 4 && performance.now() - hungUp < 10_000)
      await new Promise((r) => setTimeout(r, 50));
    // All four ended within moments of the hang-up, well before the 2.5 s budget would have stopped them.
    expect(performance.now() - hungUp).toBeLessThan(1500);
    expect(ended('flows.breakdown').filter((l) => l.msg !== 'query').length).toBeGreaterThan(0);
  });
});
