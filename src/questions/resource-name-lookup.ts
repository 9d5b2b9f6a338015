/**
 * Names of the subnets and VPCs of ends (describe-subnets / describe-vpcs in the inventory snapshots), at the time
 * of the handshake or edge, batched like inventory-lookup.ts: the ids a response asks names of are collected while
 * GraphQL resolves them and looked up in one statement per batch; nothing runs without an inventory. A tenant's key
 * sees the names of its own accounts' subnets and VPCs only.
 */
import { join } from 'node:path';
import { manifestReferences } from '../store/layout.ts';
import { resourceNameQuery } from '../store/queries/inventory-lookup-query.ts';
import { runQuery, type QueryContext } from '../store/query-runner.ts';

/** A subnet or VPC to name, and when (null: now). */
export interface ResourceKey {
  readonly id: string | null;
  readonly at: Date | null;
}

const naiveUtc = (d: Date): string => d.toISOString().replace('T', ' ').replace('Z', '');

type Lookup = (key: ResourceKey) => Promise<string | null>;
const lookups = new WeakMap<QueryContext, Lookup>();

/** The request's batched subnet/VPC name lookup (one per QueryContext). */
export function resourceNames(ctx: QueryContext): Lookup {
  let lookup = lookups.get(ctx);
  if (lookup) return lookup;
  const known = new Map<string, Promise<string | null>>();
  let pending: { key: ResourceKey; resolve: (v: string | null) => void; reject: (err: unknown) => void }[] = [];
  const flush = async () => {
    const batch = pending;
    pending = [];
    try {
      const manifest = await ctx.warehouse.manifest();
      const snapshots = manifestReferences(manifest, 'inventory');
      const found = new Map<number, string>();
      if (snapshots.length > 0) {
        await ctx.warehouse.prepare(snapshots);
        const now = new Date();
        const query = resourceNameQuery({
          ids: batch.map((b) => b.key.id ?? ''),
          times: batch.map((b) => naiveUtc(b.key.at ?? now)),
          snapshots: snapshots.map((s) => join(ctx.warehouse.root, ...s.path.split('/'))),
          accounts: manifest.accountScope ?? null,
        });
        for (const row of await runQuery(ctx, query)) found.set(Number(row.i), String(row.name));
      }
      batch.forEach((b, i) => b.resolve(found.get(i) ?? null));
    } catch (err) {
      for (const b of batch) b.reject(err);
    }
  };
  lookup = (key) => {
    if (!key.id) return Promise.resolve(null);
    const id = `${key.id}|${key.at?.getTime() ?? ''}`;
    let answer = known.get(id);
    if (!answer) {
      answer = new Promise<string | null>((resolve, reject) => {
        if (pending.length === 0) setImmediate(() => void flush());
        pending.push({ key, resolve, reject });
      });
      known.set(id, answer);
    }
    return answer;
  };
  lookups.set(ctx, lookup);
  return lookup;
}
