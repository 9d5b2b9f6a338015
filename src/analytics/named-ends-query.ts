/**
 * Names of the ends of connection rows (handshakes, edges) for dataset downloads, as GraphQL's Endpoint shows them:
 * `<side>_name` from the inventory at the row's time (inventory-tag-query.ts), `<side>_aws_service` (the records'
 * pkt-*-aws-service, else AWS's ip-ranges for the address), `<side>_network` (your own networks), then from the
 * inventory again `<side>_subnet_name`, `<side>_vpc_name`, `<side>_instance_type` and `<side>_security_groups` (ids). All looked up in
 * the snapshots the request's manifest lists, scoped to the key's accounts; a kind of snapshot not loaded gives NULLs.
 * Joins do not keep an order, so the caller's order is applied again over the named rows.
 */
import { endKeySql, tagSpansSql, type NameSources } from '../store/queries/inventory-tag-query.ts';
import { awsServiceOfSql, networkNameOfSql } from '../store/queries/reference-lookup-query.ts';
import { join, raw, sql, type SqlFragment } from '../store/sql.ts';

export type { NameSources };

const SIDES = ['client', 'server'] as const;

/** The inventory columns of an end, in output order, from its span (`n`), its subnet's (`s`) and its VPC's (`v`). */
const INVENTORY_COLUMNS = [
  ['name', 'n.tag_value.name', 'VARCHAR'],
  ['subnet_name', 's.tag_value.name', 'VARCHAR'],
  ['vpc_name', 'v.tag_value.name', 'VARCHAR'],
  ['instance_type', 'n.tag_value.instance_type', 'VARCHAR'],
  ['security_groups', 'n.tag_value.security_groups', 'VARCHAR[]'],
] as const;

/**
 * `inner` (rows with `<side>_instance_id`, `_interface_id`, `_addr`, `_subnet_id`, `_vpc_id`, `_service` and the
 * TIMESTAMP column `at`) with each side's name, AWS service, network, subnet and VPC names, instance type and security
 * group ids, ordered by `order` (columns of inner).
 */
export function namedEndsSql(inner: SqlFragment, at: string, sources: NameSources, order: string): SqlFragment {
  const named = sources.inventory.snapshots.length > 0;
  const columns = SIDES.map((side) => {
    const addr = `q.${side}_addr`;
    const looked = sources.ipRanges ? awsServiceOfSql(addr, sources.ipRanges) : raw('NULL::VARCHAR');
    const network = sources.networks ? networkNameOfSql(addr, sources.networks) : raw('NULL::VARCHAR');
    const inventory = INVENTORY_COLUMNS.filter(([c]) => c !== 'name').map(([c, expr, type]) =>
      raw(`${named ? expr.replace(/^(\w)\./, `$1_${side}.`) : `NULL::${type}`} AS ${side}_${c}`),
    );
    const name = named ? raw(`n_${side}.tag_value.name`) : raw('NULL::VARCHAR');
    return sql`${name} AS ${raw(side)}_name, coalesce(q.${raw(side)}_service, ${looked}) AS ${raw(side)}_aws_service,
       ${network} AS ${raw(side)}_network, ${join(inventory, ', ')}`;
  });
  // One relation of spans keyed by instance, interface, address, subnet and VPC: each end joins it three times.
  const spans = tagSpansSql(sources.inventory, 'details');
  const during = (alias: string) => `q.${at} >= ${alias}.tag_from AND q.${at} < ${alias}.tag_to`;
  const joins = named
    ? SIDES.flatMap((side) =>
        (
          [
            ['n', endKeySql(`q.${side}_instance_id`, `q.${side}_interface_id`, `q.${side}_addr`)],
            ['s', `q.${side}_subnet_id`],
            ['v', `q.${side}_vpc_id`],
          ] as const
        ).map(
          ([kind, key]) =>
            sql`LEFT JOIN ${spans} ${raw(`${kind}_${side}`)} ON ${raw(`${kind}_${side}`)}.tag_end = ${raw(key)} AND ${raw(during(`${kind}_${side}`))}`,
        ),
      )
    : [];
  return sql`SELECT q.*, ${join(columns, ',\n       ')}
FROM (${inner}) q
${join(joins, '\n')}
ORDER BY ${raw(order)}`;
}
