/**
 * The snapshots that name the ends of a download (named-ends-query.ts): the inventory (scoped to the key's accounts),
 * AWS's ip-ranges and your own networks, made readable for the request first.
 */
import type { NameSources } from '../analytics/named-ends-query.ts';
import type { FlowFilter } from '../domain/flow-filter.ts';
import type { QueryContext } from '../store/query-runner.ts';
import { readyInventorySnapshots } from './inventory-lookup.ts';
import { readyReferenceTables } from './reference-lookup.ts';

/** The live snapshots of the request's manifest that name ends, the inventory read as `filter`'s tenant may. */
export async function nameSources(ctx: QueryContext, filter: FlowFilter): Promise<NameSources> {
  const paths = await readyReferenceTables(ctx.warehouse);
  return {
    inventory: { snapshots: await readyInventorySnapshots(ctx.warehouse), accounts: filter.scopeAccountIds },
    ipRanges: paths.ip_ranges ?? null,
    networks: paths.networks ?? null,
  };
}
