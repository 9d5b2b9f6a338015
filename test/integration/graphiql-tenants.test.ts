/**
 * GraphiQL's example tabs are drawn from the caller's own accounts: with two tenant keys (test/helpers/tenant-fixture.ts:
 * A's only instance i-0a0a0a0a0a0a0a0a1 logs 4 records, B's i-0b0b0b0b0b0b0b0b1 logs 2, both on 2024-05-01), each
 * tenant's page defaults to its own instance and never names the other's, even though A's is the busiest overall.
 */
import { expect, it } from 'vitest';
import type { RunningServer } from '../../src/main.ts';
import { KEY_A, KEY_B, KEY_OPS, serveTenantFixture } from '../helpers/tenant-fixture.ts';

const INSTANCE_A = 'i-0a0a0a0a0a0a0a0a1';
const INSTANCE_B = 'i-0b0b0b0b0b0b0b0b1';
let server: RunningServer;

serveTenantFixture(
  (f) => ({ server } = f),
  () => ({ graphiql: true }),
);

async function page(key: string | null): Promise<{ status: number; text: string }> {
  const res = await fetch(`${server.url}/graphql`, {
    headers: { accept: 'text/html', ...(key ? { 'x-api-key': key } : {}) },
  });
  return { status: res.status, text: await res.text() };
}

it("gives each tenant the default instance of its own account, never the other tenant's", async () => {
  // B first: a cache shared across tenants would hand A's page to B, or B's to A.
  const b = await page(KEY_B);
  const a = await page(KEY_A);
  const ops = await page(KEY_OPS);
  expect([b.status, b.text.includes(INSTANCE_B), b.text.includes(INSTANCE_A)]).toEqual([200, true, false]);
  expect([a.status, a.text.includes(INSTANCE_A), a.text.includes(INSTANCE_B)]).toEqual([200, true, false]);
  // The all-accounts key sees the busiest instance overall (A's, 4 records against 2).
  expect([ops.status, ops.text.includes(INSTANCE_A), ops.text.includes(INSTANCE_B)]).toEqual([200, true, false]);
  expect(b.text).toContain('2024-05-01T00:00:00.000Z');
  // Pages asked again come from the per-tenant cache and stay apart.
  expect((await page(KEY_B)).text.includes(INSTANCE_A)).toBe(false);
  expect((await page(null)).status).toBe(401);
});
