import { describe, expect, it } from 'vitest';
import { createScopedWarehouses, scopeManifest } from '../../../src/auth/scoped-warehouse.ts';
import type { Manifest, ManifestFile } from '../../../src/store/layout.ts';
import type { WarehouseReader } from '../../../src/store/warehouse-reader.ts';

const file = (table: ManifestFile['table'], accountId: string, date: string, rows: number): ManifestFile => ({
  path: `${table}/account_id=${accountId}/region=us-east-1/date=${date}/part-1.parquet`,
  table,
  accountId,
  region: 'us-east-1',
  date,
  rows,
  bytes: rows * 10,
});

const manifest: Manifest = {
  formatVersion: 1,
  generation: 7,
  updatedAt: '2026-01-03T00:00:00.000Z',
  files: [
    file('flows', '111111111111', '2026-01-01', 5),
    file('flows', '222222222222', '2026-01-02', 100),
    file('edges', '111111111111', '2026-01-01', 2),
    file('flows', '111111111111', '2025-12-31', 3),
  ],
  ingest: {
    objects: 40,
    records: 108,
    rejects: 9,
    skippedObjects: 3,
    lastIngestAt: '2026-01-03T00:00:00.000Z',
    byAccounts: [
      { accounts: [], objects: 0, rejects: 0, skippedObjects: 1 },
      { accounts: ['111111111111'], objects: 10, rejects: 2, skippedObjects: 1 },
      { accounts: ['111111111111', '222222222222'], objects: 4, rejects: 3, skippedObjects: 0 },
      { accounts: ['222222222222'], objects: 26, rejects: 4, skippedObjects: 1 },
    ],
  },
  retired: [
    {
      path: 'flows/account_id=111111111111/region=us-east-1/date=2026-01-01/part-0.parquet',
      retiredAt: 'x',
      deleteAfter: 'y',
    },
    {
      path: 'flows/account_id=222222222222/region=us-east-1/date=2026-01-02/part-0.parquet',
      retiredAt: 'x',
      deleteAfter: 'y',
    },
  ],
};

describe('scoped warehouse', () => {
  it('shows a tenant only its files, with totals recomputed from its own accounts, each object once', () => {
    const scoped = scopeManifest(manifest, ['111111111111']);
    expect(scoped.files.map((f) => `${f.table}:${f.date}`)).toEqual([
      'flows:2026-01-01',
      'edges:2026-01-01',
      'flows:2025-12-31',
    ]);
    // Its objects: 10 of its own and 4 shared with the other account; an object with no account is nobody's.
    expect(scoped.ingest).toEqual({
      objects: 14,
      records: 8,
      rejects: 5,
      skippedObjects: 1,
      lastIngestAt: '2026-01-03T00:00:00.000Z',
    });
    expect(scoped.retired?.map((r) => r.path)).toEqual([
      'flows/account_id=111111111111/region=us-east-1/date=2026-01-01/part-0.parquet',
    ]);
    expect(scoped.generation).toBe(7);
    // Both accounts: the shared objects count once (10 + 4 + 26, not 44).
    expect(scopeManifest(manifest, ['111111111111', '222222222222']).ingest).toMatchObject({
      objects: 40,
      rejects: 9,
      skippedObjects: 2,
    });
    // A manifest written before the split: no counts for a tenant rather than another tenant's.
    const legacy = scopeManifest({ ...manifest, ingest: { ...manifest.ingest, byAccounts: undefined } }, [
      '111111111111',
    ]);
    expect(legacy.ingest).toMatchObject({ objects: 0, rejects: 0, records: 8 });
  });

  it("derives the default window from the tenant's newest day, and shares one scoped reader per allow-list", async () => {
    let current = manifest;
    const base: WarehouseReader = {
      root: '/w',
      manifest: async () => current,
      absolutePath: (f) => `/w/${f.path}`,
      latestDataEnd: async () => new Date('2026-01-03T00:00:00Z'),
      prepare: async () => {},
    };
    const scopes = createScopedWarehouses(base);
    const a = scopes(['111111111111']);
    expect(scopes(['111111111111'])).toBe(a);
    expect(scopes(null)).toBe(base);
    expect((await a.latestDataEnd())?.toISOString()).toBe('2026-01-02T00:00:00.000Z');
    expect((await scopes(['222222222222']).latestDataEnd())?.toISOString()).toBe('2026-01-03T00:00:00.000Z');
    current = {
      ...manifest,
      generation: 8,
      files: [...manifest.files, file('flows', '111111111111', '2026-01-05', 1)],
    };
    expect((await a.manifest()).files).toHaveLength(4);
    expect(await scopes(['333333333333']).latestDataEnd()).toBeNull();
  });
});
