/**
 * Names of the subnets and VPCs of ends (describe-subnets / describe-vpcs in the inventory snapshots), at the time
 * of the handshake or edge, batched like inventory-lookup.ts: the ids a response asks names of are collected while
 * GraphQL resolves them and looked up in one statement per batch; nothing runs without an inventory. A tenant's key
 * sees the names of its own accounts' subnets and VPCs only.
 */
import { resourceNameQuery } from '../store/queries/inventory-lookup-query.ts';
import { runQuery, type QueryContext } from '../store/query-runner.ts';
import { batchedLookup, type BatchedLookupSpec } from './batched-lookup.ts';
import { naiveUtc, readyInventorySnapshots } from './inventory-lookup.ts';

/** A subnet or VPC to name, and when (null: now). */
export interface ResourceKey {
  readonly id: string | null;
  readonly at: Date | null;
}

/** Looks up a batch of subnet and VPC ids in every live snapshot at once (inventory.resourceNames). */
const RESOURCE_NAMES: BatchedLookupSpec<ResourceKey, string | null> = {
  id: (key) => (key.id ? `${key.id}|${key.at?.getTime() ?? ''}` : null),
  none: null,
  load: async (ctx, keys) => {
    const found = new Map<number, string>();
    const snapshots = await readyInventorySnapshots(ctx.warehouse);
    if (snapshots.length === 0) return found;
    const now = new Date();
    const query = resourceNameQuery({
      ids: keys.map((k) => k.id ?? ''),
      times: keys.map((k) => naiveUtc(k.at ?? now)),
      snapshots,
      accounts: (await ctx.warehouse.manifest()).accountScope ?? null,
    });
    for (const row of await runQuery(ctx, query)) found.set(Number(row.i), String(row.name));
    return found;
  },
};

/** The request's batched subnet/VPC name lookup (one per QueryContext). */
export function resourceNames(ctx: QueryContext): (key: ResourceKey) => Promise<string | null> {
  return batchedLookup(ctx, RESOURCE_NAMES);
}
