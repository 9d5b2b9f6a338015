import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { printSortedSchema } from '../../../src/graphql/schema.ts';

describe('schema/schema.graphql', () => {
  it('is the printed schema (run `npm run schema:print` after changing a type)', async () => {
    const committed = await readFile(new URL('../../../schema/schema.graphql', import.meta.url), 'utf8');
    expect(
      printSortedSchema() === committed,
      'schema/schema.graphql is stale: run `npm run schema:print` and commit it',
    ).toBe(true);
  });

  it('documents the BigInt representation and exposes flows with keyset paging', () => {
    const sdl = printSortedSchema();
    expect(sdl).toContain('always serialised as a JSON string of decimal digits');
    expect(sdl).toMatch(
      /flows\(\s[\s\S]*?after: String\s[\s\S]*?filter: FlowFilter!\s[\s\S]*?first: Int\s[\s\S]*?orderBy: FlowOrder = START_TIME_ASC\s*\): FlowConnection!/,
    );
  });
});
