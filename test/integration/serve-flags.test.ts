/** `flowql serve` takes the API limits and DuckDB settings as flags, and they reach the configuration check. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const BIN = join(import.meta.dirname, '../../bin/flowql.js');

it('rejects bad --max-depth, --max-cost, --duckdb-threads and --duckdb-memory-limit values by flag, and --default-page-size over the maximum', async () => {
  const run = (args: string[]) =>
    promisify(execFile)(
      process.execPath,
      [BIN, 'serve', '--port', '0', '--data', join(import.meta.dirname, 'no-such-warehouse'), ...args],
      { env: { PATH: process.env.PATH } },
    ).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => ({ code: err.code, stderr: err.stderr }),
    );
  const [bad, page] = await Promise.all([
    run(['--max-depth', '0', '--max-cost', 'x', '--duckdb-threads', '0', '--duckdb-memory-limit', 'lots']),
    run(['--default-page-size', '5000', '--max-page-size', '1000']),
  ]);
  expect(bad.code).toBe(1);
  expect(
    bad.stderr
      .split('\n')
      .filter((l) => l.startsWith('  --'))
      .map((l) => l.slice(2, l.indexOf(':'))),
  ).toEqual([
    '--max-depth / FLOWQL_MAX_DEPTH = "0"',
    '--max-cost / FLOWQL_MAX_COST = "x"',
    '--duckdb-threads / FLOWQL_DUCKDB_THREADS = "0"',
    '--duckdb-memory-limit / FLOWQL_DUCKDB_MEMORY_LIMIT = "lots"',
  ]);
  expect(page.code).toBe(1);
  expect(page.stderr).toContain(
    '--default-page-size / FLOWQL_DEFAULT_PAGE_SIZE = 5000: must not exceed the maximum page size 1000',
  );
});
