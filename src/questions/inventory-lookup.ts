/**
 * Names of connection ends from the inventory snapshots the request's manifest lists (`flowql inventory import`),
 * at the time of the handshake or edge, batched like the address lookup (src/questions/reference-lookup.ts): the ends
 * a response asks names of are collected while GraphQL resolves them and looked up in one statement per batch; a
 * response that asks no name, and every response when no inventory is loaded, runs nothing. A tenant's key sees names
 * only of its accounts' resources (the scoped manifest's accountScope).
 */
import { join } from 'node:path';
import { manifestReferences } from '../store/layout.ts';
import { inventoryLookupQuery } from '../store/queries/inventory-lookup-query.ts';
import { runQuery, type QueryContext } from '../store/query-runner.ts';
import { batchedLookup, type BatchedLookupSpec } from './batched-lookup.ts';

/** A key/value tag. */
export interface Tag {
  readonly key: string;
  readonly value: string;
}

/** A security group: its id and name. */
export interface SecurityGroup {
  readonly id: string;
  readonly name: string;
}

/** What the inventory says about one end. */
export interface InventoryNames {
  readonly name: string | null;
  readonly tags: readonly Tag[];
  /** The instance's type; null for an end without a known instance. */
  readonly instanceType: string | null;
  /** The instance's security groups, else the interface's. */
  readonly securityGroups: readonly SecurityGroup[];
}

/** An end to name: its instance and interface (either may be unknown), else its address, and when. */
export interface InventoryKey {
  readonly instanceId: string | null;
  readonly interfaceId: string | null;
  /** Looked up only when both ids are unknown (an interface holding it in the inventory names it). */
  readonly ip?: string | null;
  /** Null: now (the latest snapshot). */
  readonly at: Date | null;
}

const NOTHING: InventoryNames = { name: null, tags: [], instanceType: null, securityGroups: [] };

/** A time as the snapshots' naive UTC TIMESTAMP text compares it. */
export const naiveUtc = (d: Date): string => d.toISOString().replace('T', ' ').replace('Z', '');

/**
 * Absolute paths of the live inventory snapshots of the request's manifest (for the `tag` filter and the TAG level),
 * made readable first (an S3 replica fetches them on demand). None when no inventory is loaded.
 */
export async function readyInventorySnapshots(
  warehouse: Pick<QueryContext['warehouse'], 'root' | 'manifest' | 'prepare'>,
): Promise<string[]> {
  const snapshots = manifestReferences(await warehouse.manifest(), 'inventory');
  if (snapshots.length > 0) await warehouse.prepare(snapshots);
  return snapshots.map((s) => join(warehouse.root, ...s.path.split('/')));
}

/** Whether a raw filter input sets `tag` (so the request must read the inventory). */
export function tagGiven(input: unknown): boolean {
  return typeof input === 'object' && input !== null && (input as Record<string, unknown>).tag != null;
}

/** Looks up a batch of ends in every live snapshot at once (inventory.lookup). */
const INVENTORY_NAMES: BatchedLookupSpec<InventoryKey, InventoryNames> = {
  id: (key) =>
    key.instanceId || key.interfaceId
      ? `${key.instanceId ?? ''}|${key.interfaceId ?? ''}|${key.at?.getTime() ?? ''}`
      : key.ip
        ? `@${key.ip}|${key.at?.getTime() ?? ''}`
        : null,
  none: NOTHING,
  load: async (ctx, keys) => {
    const found = new Map<number, InventoryNames>();
    const snapshots = await readyInventorySnapshots(ctx.warehouse);
    if (snapshots.length === 0) return found;
    const now = new Date();
    const query = inventoryLookupQuery({
      instanceIds: keys.map((k) => k.instanceId ?? ''),
      interfaceIds: keys.map((k) => k.interfaceId ?? ''),
      addresses: keys.map((k) => (k.instanceId || k.interfaceId ? '' : (k.ip ?? ''))),
      times: keys.map((k) => naiveUtc(k.at ?? now)),
      snapshots,
      accounts: (await ctx.warehouse.manifest()).accountScope ?? null,
    });
    for (const row of await runQuery(ctx, query)) {
      const tags = Array.isArray(row.tags) ? (row.tags as unknown as Tag[]) : [];
      const groups = Array.isArray(row.security_groups) ? (row.security_groups as unknown as SecurityGroup[]) : [];
      found.set(Number(row.i), {
        name: row.name === null || row.name === undefined ? null : String(row.name),
        tags: tags.map((t) => ({ key: String(t.key), value: String(t.value) })),
        instanceType: row.instance_type === null || row.instance_type === undefined ? null : String(row.instance_type),
        securityGroups: groups.map((g) => ({ id: String(g.id), name: String(g.name) })),
      });
    }
    return found;
  },
};

/** The request's batched inventory lookup (one per QueryContext): ends asked in one tick share a statement. */
export function inventoryNames(ctx: QueryContext): (key: InventoryKey) => Promise<InventoryNames> {
  return batchedLookup(ctx, INVENTORY_NAMES);
}
