// The CLI bundle (bin/build-cli-bundle.js, run by bin/flowql.js when it matches the sources), end to end in a copy of
// the project (so the test builds and edits its own sources, never this tree's): the built bin prints the committed
// schema, generates and ingests a dataset (migrations/ found from the bundle), compacts, imports an inventory, serves
// with --demo over it (the demo's reference files found from the bundle) with GraphQL, GraphiQL and the SQL endpoint
// answering; then an edit to a source makes bin/flowql.js run the sources through tsx until the next build.
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServeProcess } from '../helpers/serve-process.ts';

const run = promisify(execFile);
const REPO = join(import.meta.dirname, '../..');
/** What bin/flowql.js needs at run time; node_modules is linked, not copied. */
const COPIED = ['bin', 'src', 'migrations', 'schema', 'package.json', 'tsconfig.json'];
const RUNS_BUNDLE = /^flowql: running \S+\/dist\/cli-[^/]+\/main\.js$/m;
const RUNS_SOURCES = /^flowql: running the sources through tsx: (.+)$/m;

let root: string;
let work: string;

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node <root>/bin/flowql.js <args>`, saying on stderr which code it ran. */
async function flowql(...args: string[]): Promise<Result> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(root, 'bin/flowql.js'), ...args], {
      env: { PATH: process.env.PATH, FLOWQL_BUNDLE_DEBUG: '1' },
      maxBuffer: 64 * 2 ** 20,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as Result;
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** `node bin/build-cli-bundle.js [flags]` in the copy; its stderr line. */
async function build(...flags: string[]): Promise<string> {
  const { stderr } = await run(process.execPath, [join(root, 'bin/build-cli-bundle.js'), ...flags]);
  return stderr;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'flowql-cli-bundle-'));
  root = join(work, 'project');
  for (const name of COPIED) await cp(join(REPO, name), join(root, name), { recursive: true });
  await symlink(join(REPO, 'node_modules'), join(root, 'node_modules'), 'dir');
  expect(await build()).toMatch(/^flowql: built dist\/cli-[^/]+\/main\.js \(\d+ modules, \d+ chunks, \d+ ms\)$/m);
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the built CLI', () => {
  it('prints the committed schema', async () => {
    const r = await flowql('print-schema');
    expect(r.stderr).toMatch(RUNS_BUNDLE);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(await readFile(join(REPO, 'schema/schema.graphql'), 'utf8'));
  });

  it('generates, ingests, compacts, imports an inventory and serves the result with --demo', async () => {
    const gen = join(work, 'gen');
    const data = join(work, 'wh');
    const generated = await flowql('generate', '--out', gen, '--records', '500', '--days', '1');
    expect(generated.stderr).toMatch(RUNS_BUNDLE);
    expect(generated.code).toBe(0);

    const ingested = await flowql('ingest', join(gen, 'AWSLogs'), '--data', data, '--json');
    expect(ingested.stderr).toMatch(RUNS_BUNDLE);
    expect(ingested.code).toBe(0);
    const summary = JSON.parse(ingested.stdout) as { records: number; rejects: number; objects: { failed: number } };
    expect([summary.records, summary.rejects, summary.objects.failed]).toEqual([500, 0, 0]);

    const compacted = await flowql('compact', '--data', data, '--json');
    expect(compacted.stderr).toMatch(RUNS_BUNDLE);
    expect(compacted.code).toBe(0);

    const snapshot = join(gen, 'inventory', '2024-09-05T00-00-00Z');
    const files = (await readdir(snapshot)).map((f) => join(snapshot, f));
    expect(files).toHaveLength(4);
    const inventory = await flowql('inventory', 'import', ...files, '--data', data, '--as-of', '2024-09-05T00:00:00Z');
    expect(inventory.stderr).toMatch(RUNS_BUNDLE);
    expect(inventory.code).toBe(0);

    // --demo over a warehouse with flows imports only the shipped reference files (src/demo/reference/).
    const serve = await startServeProcess(['--data', data, '--port', '0', '--pg-port', '0', '--demo'], {
      bin: join(root, 'bin/flowql.js'),
      env: { FLOWQL_BUNDLE_DEBUG: '1' },
    });
    try {
      expect(serve.stderr()).toMatch(RUNS_BUNDLE);
      const res = await fetch(serve.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ datasets { table records } }' }),
      });
      const body = (await res.json()) as { data: { datasets: { table: string; records: string | number }[] } };
      const records = Object.fromEntries(body.data.datasets.map((d) => [d.table, Number(d.records)]));
      expect(records.FLOWS).toBe(500);
      expect(records.IP_RANGES).toBeGreaterThan(0);
      expect(records.NETWORKS).toBeGreaterThan(0);
      expect(records.INVENTORY).toBeGreaterThan(0);

      const page = await fetch(serve.graphqlUrl, { headers: { accept: 'text/html' } });
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('GraphiQL');

      const pgLine = serve
        .stdout()
        .split('\n')
        .find((l) => l.includes('SQL endpoint (PostgreSQL protocol) listening'));
      const client = new pg.Client({
        host: '127.0.0.1',
        port: (JSON.parse(pgLine!) as { port: number }).port,
        user: 'bi',
        database: 'flowql',
      });
      await client.connect();
      try {
        const { rows } = await client.query<{ n: string }>('SELECT count(*)::VARCHAR AS n FROM flows');
        expect(rows).toEqual([{ n: '500' }]);
      } finally {
        await client.end();
      }
    } finally {
      await serve.stop();
    }
  });
});

describe('a stale bundle', () => {
  it('is not run after a source changes, and is again once rebuilt', async () => {
    const source = join(root, 'src/cli/main.ts');
    const original = await readFile(source, 'utf8');
    const said = "description('AWS VPC Flow Logs -> Parquet partitions -> DuckDB -> GraphQL')";
    expect(original).toContain(said);

    // The same bytes with a newer mtime (a checkout, a copy): hashed, equal, the bundle runs.
    const later = new Date((await stat(source)).mtimeMs + 5_000);
    await utimes(source, later, later);
    expect((await flowql('--help')).stderr).toMatch(RUNS_BUNDLE);

    // An edit of the same size: the hash differs.
    await writeFile(source, original.replace(said, said.replace('GraphQL', 'GRAPHQL')));
    const sameSize = await flowql('--help');
    expect(sameSize.stderr.match(RUNS_SOURCES)?.[1]).toBe('src/cli/main.ts changed since the build');
    expect(sameSize.stdout).toContain('-> DuckDB -> GRAPHQL');

    // A longer edit: the size differs.
    await writeFile(source, original.replace(said, said.replace('GraphQL', 'GraphQL (edited)')));
    const edited = await flowql('--help');
    expect(edited.stderr.match(RUNS_SOURCES)?.[1]).toBe('src/cli/main.ts changed since the build');
    expect(edited.stdout).toContain('-> DuckDB -> GraphQL (edited)');

    expect(await build('--if-stale')).toMatch(/^flowql: built /m);
    expect(await build('--if-stale')).toMatch(/^flowql: dist\/cli-[^/]+\/main\.js matches the sources$/m);
    const rebuilt = await flowql('--help');
    expect(rebuilt.stderr).toMatch(RUNS_BUNDLE);
    expect(rebuilt.stdout).toContain('-> DuckDB -> GraphQL (edited)');

    // FLOWQL_BUNDLE=off runs the sources whatever the bundle.
    const off = await run(process.execPath, [join(root, 'bin/flowql.js'), '--help'], {
      env: { PATH: process.env.PATH, FLOWQL_BUNDLE: 'off', FLOWQL_BUNDLE_DEBUG: '1' },
    });
    expect(off.stderr.match(RUNS_SOURCES)?.[1]).toBe('FLOWQL_BUNDLE=off');
  });
});
