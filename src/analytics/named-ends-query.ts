/**
 * Names of the ends of connection rows (handshakes, edges) for dataset downloads, as GraphQL's Endpoint shows them:
 * `<side>_name` from the inventory at the row's time (inventory-tag-query.ts), `<side>_aws_service` (the records'
 * pkt-*-aws-service, else AWS's ip-ranges for the address) and `<side>_network` (your own networks). All looked up in
 * the snapshots the request's manifest lists, scoped to the key's accounts; a kind of snapshot not loaded gives NULLs.
 * Joins do not keep an order, so the caller's order is applied again over the named rows.
 */
import { endKeySql, tagSpansSql, type NameSources } from '../store/queries/inventory-tag-query.ts';
import { awsServiceOfSql, networkNameOfSql } from '../store/queries/reference-lookup-query.ts';
import { join, raw, sql, type SqlFragment } from '../store/sql.ts';

export type { NameSources };

const SIDES = ['client', 'server'] as const;

/**
 * `inner` (rows with `<side>_instance_id`, `_interface_id`, `_addr`, `_service` and the TIMESTAMP column `at`) with
 * each side's name, AWS service and network, ordered by `order` (columns of inner).
 */
export function namedEndsSql(inner: SqlFragment, at: string, sources: NameSources, order: string): SqlFragment {
  const named = sources.inventory.snapshots.length > 0;
  const columns = SIDES.map((side) => {
    const addr = `q.${side}_addr`;
    const name = named ? raw(`n_${side}.tag_value`) : raw('NULL::VARCHAR');
    const looked = sources.ipRanges ? awsServiceOfSql(addr, sources.ipRanges) : raw('NULL::VARCHAR');
    const network = sources.networks ? networkNameOfSql(addr, sources.networks) : raw('NULL::VARCHAR');
    return sql`${name} AS ${raw(side)}_name, coalesce(q.${raw(side)}_service, ${looked}) AS ${raw(side)}_aws_service,
       ${network} AS ${raw(side)}_network`;
  });
  const joins = named
    ? SIDES.map(
        (side) => sql`LEFT JOIN ${tagSpansSql(sources.inventory, 'name')} n_${raw(side)}
    ON n_${raw(side)}.tag_end = ${raw(endKeySql(`q.${side}_instance_id`, `q.${side}_interface_id`, `q.${side}_addr`))}
   AND q.${raw(at)} >= n_${raw(side)}.tag_from AND q.${raw(at)} < n_${raw(side)}.tag_to`,
      )
    : [];
  return sql`SELECT q.*, ${join(columns, ',\n       ')}
FROM (${inner}) q
${join(joins, '\n')}
ORDER BY ${raw(order)}`;
}
