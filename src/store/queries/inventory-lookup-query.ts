/**
 * `inventory.lookup`: names of connection ends from the inventory snapshots (src/domain/inventory.ts), at a time.
 *
 * Every live snapshot is read at once (each file holds its `valid_from`). A resource is named by its row in the latest
 * snapshot at or before the asked time, else (the time precedes every snapshot holding it) by the earliest one, unless
 * the time precedes the resource's launch (an instance's LaunchTime) or attachment (an interface's AttachTime) as that
 * snapshot lists it: ids are never reused, so an older or later view of the same resource beats no name. An end is
 * looked up by its instance; an end known only by its interface is named by the instance that interface was attached
 * to in the chosen snapshot (so an interface reattached later names its new owner only from that snapshot's time); an
 * end known only by its address is named by the interface holding that address, chosen by the same rule with the
 * address as the resource (none in a snapshot where two interfaces hold it). The name is the instance's Name tag,
 * else the interface's; the tags are the instance's when it is known, else the interface's. The same rules, as spans
 * of time, name the ends of downloads and group the TAG level (inventory-tag-query.ts).
 */
import { build, raw, sql, type SqlQuery } from '../sql.ts';
import { inventoryRowsSql } from './inventory-tag-query.ts';

/** What a lookup needs. Ids are '' where an end has none (bound lists hold no NULLs). */
export interface InventoryLookupInput {
  readonly instanceIds: readonly string[];
  readonly interfaceIds: readonly string[];
  /** The end's address, looked up only for an end with neither id ('' where none). */
  readonly addresses: readonly string[];
  /** Naive UTC times, `YYYY-MM-DD HH:MM:SS.mmm`, one per key. */
  readonly times: readonly string[];
  /** Absolute paths of the live inventory snapshots (at least one). */
  readonly snapshots: readonly string[];
  /** The accounts a tenant may read (their resources only are named); null: every account. */
  readonly accounts: readonly string[] | null;
}

// Of a resource's rows: the latest snapshot at or before k.at, else the earliest.
const AS_OF_ORDER = raw(
  'r.valid_from <= k.at DESC, CASE WHEN r.valid_from <= k.at THEN r.valid_from END DESC, r.valid_from',
);
// A row of a later snapshot names a time before it only from the resource's launch or attach time on.
const LAUNCHED = raw('(r.valid_from <= k.at OR r.since IS NULL OR k.at >= r.since)');

/**
 * One row per key (`i`, its position in the input) that some snapshot names: `name`, `tags`, the instance's
 * `instance_type` and the `security_groups` (the instance's when it is known, else the interface's). Snapshots written
 * before flowql kept types and groups read them as NULL (union_by_name).
 */
export function inventoryLookupQuery(input: InventoryLookupInput): SqlQuery {
  return build(
    'inventory.lookup',
    sql`WITH inv AS (
  SELECT resource_id, resource_type, instance_id, name, tags, valid_from, instance_type, security_groups,
         private_addresses, coalesce(launch_time, attach_time) AS since
    FROM ${inventoryRowsSql(input)}
), k AS (
  SELECT unnest(range(len(${input.times}::VARCHAR[]))) AS i, NULLIF(unnest(${input.instanceIds}::VARCHAR[]), '') AS instance_id,
         NULLIF(unnest(${input.interfaceIds}::VARCHAR[]), '') AS interface_id, NULLIF(unnest(${input.addresses}::VARCHAR[]), '') AS addr,
         CAST(unnest(${input.times}::VARCHAR[]) AS TIMESTAMP) AS at
), held AS (
  -- Who holds each address in each snapshot: one interface, or nobody when two do.
  SELECT addr, valid_from, CASE WHEN count(*) = 1 THEN min(resource_id) END AS interface_id,
         CASE WHEN count(*) = 1 THEN min(since) END AS since
    FROM (SELECT unnest(private_addresses) AS addr, resource_id, valid_from, since FROM inv WHERE resource_type = 'interface')
   GROUP BY addr, valid_from
), by_addr AS (
  SELECT k.i, first(struct_pack(interface_id := r.interface_id, valid_from := r.valid_from) ORDER BY ${AS_OF_ORDER}) AS a
    FROM k JOIN held r ON k.instance_id IS NULL AND k.interface_id IS NULL AND r.addr = k.addr AND ${LAUNCHED}
   GROUP BY k.i
), ends AS (
  SELECT k.i, k.at, k.instance_id, coalesce(k.interface_id, b.a.interface_id) AS interface_id, b.a.valid_from AS addr_snapshot
    FROM k LEFT JOIN by_addr b USING (i)
), eni AS (
  SELECT k.i, first(struct_pack(instance_id := r.instance_id, valid_from := r.valid_from, name := r.name, tags := r.tags,
                                security_groups := r.security_groups)
           ORDER BY ${AS_OF_ORDER}) AS e
    FROM ends k JOIN inv r ON r.resource_type = 'interface' AND r.resource_id = k.interface_id AND ${LAUNCHED}
     AND (k.addr_snapshot IS NULL OR r.valid_from = k.addr_snapshot)
   GROUP BY k.i
), owner AS (
  SELECT k.i, k.at, coalesce(k.instance_id, eni.e.instance_id) AS instance_id,
         CASE WHEN k.instance_id IS NULL THEN eni.e.valid_from END AS same_snapshot
    FROM ends k LEFT JOIN eni USING (i)
), ins AS (
  SELECT k.i, first(struct_pack(name := r.name, tags := r.tags, instance_type := r.instance_type,
                                security_groups := r.security_groups) ORDER BY ${AS_OF_ORDER}) AS n
    FROM owner k JOIN inv r ON r.resource_type = 'instance' AND r.resource_id = k.instance_id
     AND (k.same_snapshot IS NULL OR r.valid_from = k.same_snapshot)
     AND (k.same_snapshot IS NOT NULL OR ${LAUNCHED})
   GROUP BY k.i
)
SELECT k.i, coalesce(ins.n.name, eni.e.name) AS name, CASE WHEN ins.n IS NOT NULL THEN ins.n.tags ELSE eni.e.tags END AS tags,
       ins.n.instance_type AS instance_type,
       CASE WHEN ins.n IS NOT NULL THEN ins.n.security_groups ELSE eni.e.security_groups END AS security_groups
  FROM k LEFT JOIN eni USING (i) LEFT JOIN ins USING (i)
 WHERE ins.n IS NOT NULL OR eni.e IS NOT NULL ORDER BY k.i`,
  );
}

/** What a lookup of resources by their own id needs (subnets, VPCs). */
export interface ResourceNameInput {
  readonly ids: readonly string[];
  /** Naive UTC times, one per id. */
  readonly times: readonly string[];
  readonly snapshots: readonly string[];
  readonly accounts: readonly string[] | null;
}

/**
 * `inventory.resourceNames`: the Name tag of resources known by their own id (a subnet, a VPC) at a time, by the
 * same rule (the latest snapshot at or before it, else the earliest). One row per key (`i`) that a snapshot names.
 */
export function resourceNameQuery(input: ResourceNameInput): SqlQuery {
  return build(
    'inventory.resourceNames',
    sql`WITH k AS (
  SELECT unnest(range(len(${input.times}::VARCHAR[]))) AS i, unnest(${input.ids}::VARCHAR[]) AS id,
         CAST(unnest(${input.times}::VARCHAR[]) AS TIMESTAMP) AS at
)
SELECT k.i, first(r.name ORDER BY ${AS_OF_ORDER}) AS name
  FROM k JOIN (SELECT resource_id, name, valid_from FROM ${inventoryRowsSql(input)} WHERE name IS NOT NULL) r
    ON r.resource_id = k.id
 GROUP BY k.i ORDER BY k.i`,
  );
}
