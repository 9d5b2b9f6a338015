/**
 * Tags and names of ends from the inventory snapshots (src/domain/inventory.ts), over time: the `tag` filter (flow
 * records and connections), the TAG edge level and the names of dataset downloads read them here.
 *
 * The same rules as inventory.lookup (inventory-lookup-query.ts), as spans of time rather than one lookup per key: a
 * resource's row in a snapshot holds from that snapshot's as-of to the resource's next snapshot (the latest snapshot
 * at or before a time names it), and its earliest row also holds before its as-of. An interface's tags are those of
 * the instance it is attached to in the same snapshot, else its own (NAT gateways and endpoints have no instance), and
 * its name the instance's, else its own. An end is keyed by its instance, else its interface. Spans of one resource never overlap, so joining an end to the
 * spans adds at most one row.
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

/** What a span holds: the value of one tag key, or the end's name (the instance's Name tag, else the interface's). */
export type SpanValue = { readonly tagKey: string } | 'name';

const valueSql = (v: SpanValue): SqlFragment =>
  v === 'name' ? raw('name') : sql`list_filter(tags, lambda t: t.key = ${v.tagKey})[1].value`;

/**
 * A relation `(tag_end, tag_value, tag_from, tag_to)`: every instance or interface that has `value` (a tag key's value,
 * or a name), the value it has from `tag_from` (inclusive) to `tag_to` (exclusive). Column names are unlike any flows
 * or connection column, so a correlated condition over it binds the record's columns unambiguously.
 */
export function tagSpansSql(source: TagSource, v: SpanValue): SqlFragment {
  const scope = source.accounts ? sql`WHERE list_contains(${source.accounts}::VARCHAR[], account_id)` : raw('');
  const snapshot = sql`(SELECT * FROM read_parquet(${source.snapshots}::VARCHAR[], union_by_name = true) ${scope})`;
  // An interface's tags and name are its instance's in the same snapshot (a snapshot lists a resource once).
  const resolved = sql`SELECT r.resource_id, r.valid_from, CASE WHEN o.resource_id IS NOT NULL THEN o.tags ELSE r.tags END AS tags,
             coalesce(o.name, r.name) AS name
        FROM ${snapshot} r
        LEFT JOIN ${snapshot} o
          ON r.resource_type = 'interface' AND o.resource_type = 'instance' AND o.resource_id = r.instance_id
         AND o.valid_from = r.valid_from`;
  // One snapshot names every resource it lists at all times: no spans to compute (the common case, and the cheap one).
  if (source.snapshots.length === 1) {
    return sql`(SELECT resource_id AS tag_end, tag_value, '-infinity'::TIMESTAMP AS tag_from, 'infinity'::TIMESTAMP AS tag_to
  FROM (SELECT resource_id, ${valueSql(v)} AS tag_value FROM (${resolved})) WHERE tag_value IS NOT NULL)`;
  }
  return sql`(SELECT resource_id AS tag_end, tag_value, tag_from, tag_to FROM (
  SELECT resource_id, ${valueSql(v)} AS tag_value,
         CASE WHEN row_number() OVER w = 1 THEN '-infinity'::TIMESTAMP ELSE valid_from END AS tag_from,
         coalesce(lead(valid_from) OVER w, 'infinity'::TIMESTAMP) AS tag_to
    FROM (${resolved}
       QUALIFY row_number() OVER (PARTITION BY r.resource_id, r.valid_from ORDER BY o.resource_id) = 1)
  WINDOW w AS (PARTITION BY resource_id ORDER BY valid_from)
) WHERE tag_value IS NOT NULL)`;
}

/** The key of an end in the spans: its instance, else its interface (SQL over the row's columns, from allow-lists). */
export function endKeySql(instanceColumn: string, interfaceColumn: string): string {
  return `coalesce(${instanceColumn}, ${interfaceColumn})`;
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
