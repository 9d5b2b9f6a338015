/**
 * Tenant isolation in one place: a WarehouseReader that shows a tenant only the manifest files of its accounts.
 * Every reader (flows, aggregates, handshakes, edges, partitions, coverage, the default time window) takes its file
 * list from `ctx.warehouse.manifest()`, so with this reader on the request's QueryContext another account's file is
 * never handed to DuckDB at all — a reader cannot forget the scope. The filter's `scopeAccountIds` (ANDed into the
 * SQL by flowFilterSql) stays as a second line of defence, and validateFlowFilter refuses foreign accounts by name.
 */
import { ALL_ACCOUNTS, isOrgTable, type Manifest } from '../store/layout.ts';
import type { WarehouseReader } from '../store/warehouse-reader.ts';

/** The manifest as `accounts` may see it: their files only, ingest totals recomputed from those files. */
export function scopeManifest(manifest: Manifest, accounts: readonly string[]): Manifest {
  const allowed = new Set(accounts);
  // An org table's files hold rows derived from every account of the warehouse, in every region (docs/semantics.md
  // §10): a tenant sees them only when it may read each of those accounts, else its questions pair its own records.
  const orgAllowed = manifest.files.every((f) => f.table !== 'flows' || allowed.has(f.accountId));
  const files = manifest.files.filter((f) =>
    f.accountId === ALL_ACCOUNTS ? isOrgTable(f.table) && orgAllowed : allowed.has(f.accountId),
  );
  const records = files.reduce((n, f) => (f.table === 'flows' ? n + f.rows : n), 0);
  // Objects count for a tenant when one of their accounts is among the object's; the lists of other accounts'
  // objects are not passed on. A manifest written before the split was kept shows a tenant no object counts.
  const mine = (manifest.ingest.byAccounts ?? []).filter((g) => g.accounts.some((a) => allowed.has(a)));
  const sum = (pick: (g: (typeof mine)[number]) => number) => mine.reduce((n, g) => n + pick(g), 0);
  const ingest = {
    objects: sum((g) => g.objects),
    records,
    rejects: sum((g) => g.rejects),
    skippedObjects: sum((g) => g.skippedObjects),
    lastIngestAt: manifest.ingest.lastIngestAt,
  };
  const retired = manifest.retired?.filter((r) => allowed.has(/(?:^|\/)account_id=([^/]+)\//.exec(r.path)?.[1] ?? ''));
  return { ...manifest, files, ingest, ...(retired ? { retired } : {}), accountScope: [...accounts] };
}

/** `reader` restricted to `accounts` (null = unrestricted: returns `reader` itself). */
export function scopeWarehouse(reader: WarehouseReader, accounts: readonly string[] | null): WarehouseReader {
  if (accounts === null) return reader;
  let cached: { source: Manifest; scoped: Manifest } | null = null;
  return {
    root: reader.root,
    absolutePath: (file) => reader.absolutePath(file),
    ...(reader.files ? { files: reader.files } : {}),
    prepare: (files) => reader.prepare(files),
    async manifest() {
      const source = await reader.manifest();
      if (cached?.source !== source) cached = { source, scoped: scopeManifest(source, accounts) };
      return cached.scoped;
    },
    async latestDataEnd(table = 'flows') {
      const m = await this.manifest();
      let latest = '';
      for (const f of m.files) if (f.table === table && f.date > latest) latest = f.date;
      return latest ? new Date(Date.parse(`${latest}T00:00:00Z`) + 86_400_000) : null;
    },
  };
}

/** Scoped readers shared per allow-list, so each tenant filters a new manifest once, not once per request. */
export function createScopedWarehouses(
  reader: WarehouseReader,
): (accounts: readonly string[] | null) => WarehouseReader {
  const byScope = new Map<string, WarehouseReader>();
  return (accounts) => {
    if (accounts === null) return reader;
    const key = accounts.join(',');
    let scoped = byScope.get(key);
    if (!scoped) byScope.set(key, (scoped = scopeWarehouse(reader, accounts)));
    return scoped;
  };
}
