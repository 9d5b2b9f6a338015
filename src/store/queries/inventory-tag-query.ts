/**
 * Tags and names of ends from the inventory snapshots (src/domain/inventory.ts), over time: the `tag` filter (flow
 * records and connections), the TAG edge level and the names of dataset downloads read them here.
 *
 * The same rules as inventory.lookup (inventory-lookup-query.ts), as spans of time rather than one lookup per key: a
 * resource's row in a snapshot holds from that snapshot's as-of to the resource's next snapshot (the latest snapshot
 * at or before a time names it), and its earliest row also holds before its as-of, from the resource's launch time
 * (an instance) or attach time (an interface) when the snapshot lists one, else from always. An interface's tags are
 * those of the instance it is attached to in the same snapshot, else its own (NAT gateways and endpoints have no
 * instance), and its name the instance's, else its own. An end is keyed by its instance, else its interface, else its
 * address: a private (or IPv6) address is named by the interface that holds it, by the same rule with the address as
 * the resource (so an address that moves to another interface names its new owner from the snapshot that shows it
 * there), and by nothing in a snapshot where two interfaces hold it (overlapping VPCs). Ids and addresses never look
 * alike, so one relation holds both. Spans of one key never overlap, so joining an end to the spans adds at most one
 * row.
 */
import type { TagMatch } from '../../domain/filter-values.ts';
import { join, raw, sql, type SqlFragment } from '../sql.ts';

/** Where tags come from: the live snapshots and the tenant's accounts (null: every account). */
export interface TagSource {
  readonly snapshots: readonly string[];
  readonly accounts: readonly string[] | null;
}

/** The snapshots that name ends in downloads (absolute paths; empty or null: not loaded). */
export interface NameSources {
  readonly inventory: TagSource;
  readonly ipRanges: string | null;
  readonly networks: string | null;
}

/**
 * What a span holds: the value of one tag key, the end's name (the instance's Name tag, else the interface's), or
 * `details`: a struct of the name, the instance's type and the security group ids (the instance's, else the
 * interface's), what downloads show of an end.
 */
export type SpanValue = { readonly tagKey: string } | 'name' | 'details';

const valueSql = (v: SpanValue): SqlFragment =>
  v === 'name'
    ? raw('name')
    : v === 'details'
      ? raw(
          'struct_pack(name := name, instance_type := instance_type, security_groups := list_transform(security_groups, lambda g: g.id))',
        )
      : sql`list_filter(tags, lambda t: t.key = ${v.tagKey})[1].value`;

/**
 * Every row of the live snapshots a tenant may read, with every column flowql has written: a snapshot written before
 * a column existed reads it as NULL (UNION BY NAME with an empty relation that has them all).
 */
export function inventoryRowsSql(source: TagSource): SqlFragment {
  const scope = source.accounts ? sql`WHERE list_contains(${source.accounts}::VARCHAR[], account_id)` : raw('');
  return sql`(SELECT * FROM read_parquet(${source.snapshots}::VARCHAR[], union_by_name = true) ${scope}
  UNION ALL BY NAME
  SELECT NULL::VARCHAR AS instance_type, NULL::STRUCT(id VARCHAR, name VARCHAR)[] AS security_groups,
         NULL::VARCHAR[] AS private_addresses, NULL::TIMESTAMP AS launch_time, NULL::TIMESTAMP AS attach_time
   WHERE FALSE)`;
}

/**
 * A relation `(tag_end, tag_value, tag_from, tag_to)`: every instance or interface that has `value` (a tag key's value,
 * or a name), the value it has from `tag_from` (inclusive) to `tag_to` (exclusive). Column names are unlike any flows
 * or connection column, so a correlated condition over it binds the record's columns unambiguously.
 */
export function tagSpansSql(source: TagSource, v: SpanValue): SqlFragment {
  const snapshot = inventoryRowsSql(source);
  // An interface's tags and name are its instance's in the same snapshot (a snapshot lists a resource once).
  const resolved = sql`SELECT r.resource_id, r.resource_type, r.valid_from, r.private_addresses,
             coalesce(r.launch_time, r.attach_time) AS since,
             CASE WHEN o.resource_id IS NOT NULL THEN o.tags ELSE r.tags END AS tags, coalesce(o.name, r.name) AS name,
             CASE WHEN o.resource_id IS NOT NULL THEN o.instance_type ELSE r.instance_type END AS instance_type,
             CASE WHEN o.resource_id IS NOT NULL THEN o.security_groups ELSE r.security_groups END AS security_groups
        FROM ${snapshot} r
        LEFT JOIN ${snapshot} o
          ON r.resource_type = 'interface' AND o.resource_type = 'instance' AND o.resource_id = r.instance_id
         AND o.valid_from = r.valid_from`;
  // Keys: every resource, and every address of an interface (none where two interfaces of a snapshot hold it).
  const keyed = sql`SELECT resource_id AS end_key, valid_from, since, ${valueSql(v)} AS tag_value FROM resolved
  UNION ALL
  SELECT end_key, valid_from, CASE WHEN count(*) = 1 THEN min(since) END,
         CASE WHEN count(*) = 1 THEN min(tag_value) END
    FROM (SELECT unnest(private_addresses) AS end_key, valid_from, since, ${valueSql(v)} AS tag_value
            FROM resolved WHERE resource_type = 'interface')
   GROUP BY end_key, valid_from`;
  const from = raw("coalesce(since, '-infinity'::TIMESTAMP)");
  // One snapshot names every key it lists from its launch or attach time on: no spans to compute (the common case,
  // and the cheap one).
  if (source.snapshots.length === 1) {
    return sql`(WITH resolved AS (${resolved})
SELECT end_key AS tag_end, tag_value, ${from} AS tag_from, 'infinity'::TIMESTAMP AS tag_to
  FROM (${keyed}) WHERE tag_value IS NOT NULL)`;
  }
  return sql`(WITH resolved AS (${resolved}
       QUALIFY row_number() OVER (PARTITION BY r.resource_id, r.valid_from ORDER BY o.resource_id) = 1)
SELECT tag_end, tag_value, tag_from, tag_to FROM (
  SELECT end_key AS tag_end, tag_value,
         CASE WHEN row_number() OVER w = 1 THEN ${from} ELSE valid_from END AS tag_from,
         coalesce(lead(valid_from) OVER w, 'infinity'::TIMESTAMP) AS tag_to
    FROM (${keyed})
  WINDOW w AS (PARTITION BY end_key ORDER BY valid_from)
) WHERE tag_value IS NOT NULL)`;
}

/**
 * The key of an end in the spans: its instance, else its interface, else (connection ends, which may have neither)
 * its address (SQL over the row's columns, from allow-lists).
 */
export function endKeySql(instanceColumn: string, interfaceColumn: string, addressColumn?: string): string {
  return `coalesce(${instanceColumn}, ${interfaceColumn}${addressColumn ? `, ${addressColumn}` : ''})`;
}

/**
 * The end `endKey` (an SQL expression over the row, from endKeySql) carries `m.key` with one of `m.values` at `at` (a
 * TIMESTAMP column of the row). Without an inventory snapshot nothing matches. The ends that ever carry the tag are
 * a hash semi-join (cheap, and it leaves few rows); only they are checked against the time spans, a correlated test
 * that DuckDB answers by grouping the rows' distinct keys and times (5x the scan's time on every row of a day, as
 * measured by bench:api). One snapshot spans all time, so there the first test is the whole answer.
 */
export function endTaggedSql(m: TagMatch, endKey: string, at: string): SqlFragment {
  if (m.snapshots.length === 0) return raw('FALSE');
  const values = join(
    m.values.map((v) => sql`${v}`),
    ', ',
  );
  const spans = tagSpansSql(m, { tagKey: m.key });
  const ever = sql`${raw(endKey)} IN (SELECT s.tag_end FROM ${spans} s WHERE s.tag_value IN (${values}))`;
  if (m.snapshots.length === 1) return ever;
  return sql`(${ever} AND EXISTS (SELECT 1 FROM ${spans} s
  WHERE s.tag_end = ${raw(endKey)} AND ${raw(at)} >= s.tag_from AND ${raw(at)} < s.tag_to AND s.tag_value IN (${values})))`;
}
