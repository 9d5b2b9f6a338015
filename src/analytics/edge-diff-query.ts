/**
 * The `edgeDiff` question: edges at a level in two windows, joined, keeping those that appeared, disappeared, or whose
 * total bytes changed by at least `minFactor` either way (a zero side counts as 1 byte, so 0 -> 5 bytes is a factor
 * of 5, not infinite). Ordered by the absolute change. Named `edges.diff`.
 */
import type { EdgeLevel } from '../domain/connection-enums.ts';
import { build, raw, sql, type SqlFragment, type SqlQuery } from '../store/sql.ts';
import { edgeAggregateSql } from './edge-query.ts';

/** Input of edgeDiffQuery: two filtered edge-row relations (connectionRelationSql of each window). */
export interface EdgeDiffInput {
  readonly before: SqlFragment;
  readonly after: SqlFragment;
  readonly level: EdgeLevel;
  readonly minFactor: number;
  readonly limit: number;
}

/** Changed edges, `limit + 1` rows. */
export function edgeDiffQuery(input: EdgeDiffInput): SqlQuery {
  const total = (s: string) => `coalesce(${s}.bytes_to_server + ${s}.bytes_to_client, 0)`;
  return build(
    'edges.diff',
    sql`WITH b AS (${edgeAggregateSql(input.before, input.level)}),
a AS (${edgeAggregateSql(input.after, input.level)})
SELECT client_id, server_id, protocol, server_port,
       coalesce(a.client_kind, b.client_kind) AS client_kind, coalesce(a.server_kind, b.server_kind) AS server_kind,
       ${raw(`${total('b')}::BIGINT AS before_bytes, ${total('a')}::BIGINT AS after_bytes,`)}
       CASE WHEN b.client_id IS NULL THEN 'APPEARED' WHEN a.client_id IS NULL THEN 'DISAPPEARED' ELSE 'CHANGED' END AS change,
       coalesce(a.direction_method, b.direction_method) AS direction_method
FROM a FULL OUTER JOIN b USING (client_id, server_id, protocol, server_port)
WHERE b.client_id IS NULL OR a.client_id IS NULL
   OR greatest(${raw(total('a'))}, 1) >= ${input.minFactor} * greatest(${raw(total('b'))}, 1)
   OR greatest(${raw(total('b'))}, 1) >= ${input.minFactor} * greatest(${raw(total('a'))}, 1)
ORDER BY abs(after_bytes - before_bytes) DESC, client_id, server_id, protocol, server_port
LIMIT ${input.limit + 1}`,
  );
}
