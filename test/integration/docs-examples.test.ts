/**
 * Every example a user copies from the README and docs/ answers with data on the demo warehouse, whatever today's
 * date is: each ```graphql block is posted as it is printed, each `/datasets/...` URL is fetched as it is printed, and
 * each ```sql block over schema flowql runs over the PostgreSQL protocol (node-postgres) as it is printed (other sql
 * blocks are for the DuckDB CLI).
 * The demo is generated as `npm start` generates it (yesterday, UTC; fewer records, same generator and seed), then
 * served by the real server on a loopback port.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDemoWarehouse } from '../../src/demo/ensure-demo-warehouse.ts';
import type { RunningServer } from '../../src/main.ts';
import { startTestServer } from '../helpers/tenant-fixture.ts';

const repo = join(import.meta.dirname, '../..');

/** The markdown files a user reads: README.md, docs/*.md and docker/README.md when it exists. */
async function documents(): Promise<{ name: string; text: string }[]> {
  const names = [
    'README.md',
    ...(await readdir(join(repo, 'docs'))).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`),
  ];
  if ((await readdir(join(repo, 'docker'))).includes('README.md')) names.push('docker/README.md');
  return Promise.all(names.map(async (name) => ({ name, text: await readFile(join(repo, name), 'utf8') })));
}

/** The fenced ```graphql blocks of a document. */
export function graphqlBlocks(text: string): string[] {
  return [...text.matchAll(/^```graphql\n([\s\S]*?)^```/gm)].map((m) => m[1]!);
}

/** The fenced ```sql blocks of a document that read schema flowql (the SQL endpoint's). */
export function sqlBlocks(text: string): string[] {
  return [...text.matchAll(/^```sql\n([\s\S]*?)^```/gm)].map((m) => m[1]!).filter((q) => /\bflowql\.\w/.test(q));
}

/** The dataset URLs of a document, path and query as printed (placeholders such as `<name>` are skipped). */
export function datasetUrls(text: string): string[] {
  const urls = [...text.matchAll(/\/datasets\/[\w.<>]+(?:\?[^\s`'")\]]*)?/g)].map((m) => m[0]);
  return [
    ...new Set(urls.filter((u) => /^\/datasets\/\w+\.(csv|json|parquet)(\?|$)/.test(u) && !/[<>$]|\.\.\./.test(u))),
  ];
}

/** Whether a JSON value holds an answer: a non-zero number, a non-empty string other than "0", or such a value inside. */
function hasData(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasData);
  if (value && typeof value === 'object') return Object.values(value).some(hasData);
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'string') return value !== '' && value !== '0';
  return value === true;
}

const quiet = Object.assign(new Writable({ write: (_c, _e, cb) => cb() }), {
  isTTY: false,
}) as unknown as NodeJS.WriteStream;
let root = '';
let server: RunningServer;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'flowql-docs-'));
  await ensureDemoWarehouse(root, { log: { info: () => {} }, records: 30_000, progress: quiet });
  ({ server } = await startTestServer({ dataDir: root, pgPort: 0 }));
}, 300_000);

afterAll(async () => {
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

describe('the examples of README.md and docs/ on the demo warehouse', () => {
  it('finds the examples it runs (the extraction itself is not silently empty)', async () => {
    const docs = await documents();
    const readme = docs.find((d) => d.name === 'README.md')!.text;
    expect(graphqlBlocks(readme).length).toBeGreaterThanOrEqual(3);
    expect(datasetUrls(docs.find((d) => d.name === 'docs/bi.md')!.text).length).toBeGreaterThanOrEqual(5);
    expect(datasetUrls('see `/datasets/<name>.csv?<parameters>` and /datasets/topn.csv?by=SRC_ADDR&limit=20`')).toEqual(
      ['/datasets/topn.csv?by=SRC_ADDR&limit=20'],
    );
  });

  it('every GraphQL block answers without errors, and every field it asks for holds data', async () => {
    for (const { name, text } of await documents()) {
      for (const query of graphqlBlocks(text)) {
        const res = await fetch(`${server.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query }),
        });
        const body = (await res.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
        const where = `${name}:\n${query}\n${JSON.stringify(body).slice(0, 2000)}`;
        expect(res.status, where).toBe(200);
        expect(body.errors, where).toBeUndefined();
        expect(Object.keys(body.data ?? {}).length, where).toBeGreaterThan(0);
        for (const [field, value] of Object.entries(body.data ?? {}))
          expect(hasData(value), `${field} in ${where}`).toBe(true);
      }
    }
  });

  it('every SQL block answers over the PostgreSQL protocol with rows that hold data', async () => {
    const docs = await documents();
    expect(sqlBlocks(docs.find((d) => d.name === 'docs/bi.md')!.text).length).toBeGreaterThanOrEqual(5);
    const client = new pg.Client({ host: '127.0.0.1', port: server.pg!.port, user: 'bi', database: 'flowql' });
    await client.connect();
    try {
      for (const { name, text } of docs) {
        for (const query of sqlBlocks(text)) {
          const result = await client.query(query).catch((err: Error) => ({ rows: [], error: err.message }));
          const where = `${name}:\n${query}\n${JSON.stringify(result).slice(0, 2000)}`;
          expect(result.rows.length, where).toBeGreaterThan(0);
          expect(hasData(result.rows), where).toBe(true);
        }
      }
    } finally {
      await client.end();
    }
  });

  it('every dataset URL answers 200 with rows', async () => {
    for (const { name, text } of await documents()) {
      for (const url of datasetUrls(text)) {
        const res = await fetch(`${server.url}${url}`);
        const body = await res.arrayBuffer();
        const where = `${name}: ${url} -> ${res.status} ${new TextDecoder().decode(body.slice(0, 500))}`;
        expect(res.status, where).toBe(200);
        expect(Number(res.headers.get('x-flowql-rows')), where).toBeGreaterThan(0);
      }
    }
  });
});
