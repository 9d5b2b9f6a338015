/**
 * Error messages never echo a caller's input whole: a 100 kB variable, field name or argument comes back as a few
 * hundred characters naming what was wrong, with the HTTP status and error code it had.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, testApi } from '../../helpers/graphql.ts';

let root = '';
let api: Awaited<ReturnType<typeof testApi>>;
const big = 'x'.repeat(100_000);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'flowql-errors-'));
  api = await testApi(root);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('error messages', () => {
  it.each([
    [
      'a variable of the wrong type',
      'query($f: Int) { flows(filter: {}, first: $f) { nodes { flowId } } }',
      { f: big },
      200,
      /^Variable "\$f" got invalid value "x{100}/,
    ],
    ['an unknown field', `{ ${big} }`, {}, 400, /^Cannot query field "x{100}/],
    [
      'a bad argument value',
      `{ flowSummary(filter: { srcAddr: "${big}" }) { records } }`,
      {},
      200,
      /^Invalid filter\.srcAddr\[0\]: expected an IPv4/,
    ],
  ])('%s: cut, with its status and code', async (_what, query, variables, status, start) => {
    const body = await gql(api.yoga, query, variables);
    expect(body.status).toBe(status);
    const [error] = body.errors ?? [];
    expect(error?.message).toMatch(start);
    expect(error!.message.length).toBeLessThan(1100);
    expect(JSON.stringify(body).length).toBeLessThan(3000);
  });
});
