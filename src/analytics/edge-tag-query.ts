/**
 * The TAG edge level (docs/semantics.md §6): edge rows with each end's tag as `client_tag` / `server_tag`, the text
 * `<key>=<value>` (`app=payments-api`) that endpointIdSql groups TAG ends by. An end is tagged as the inventory knows it
 * at the row's first record (inventory-tag-query.ts); an end without the tag (no inventory row, no such key, an
 * address, an AWS service) keeps a null tag and so its INSTANCE-level id. The key cannot clash with an id: ids and
 * addresses never hold `=`.
 */
import { endKeySql, tagSpansSql, type TagSource } from '../store/queries/inventory-tag-query.ts';
import { raw, sql, type SqlFragment } from '../store/sql.ts';

/** `rows` (edge rows) with `client_tag` and `server_tag` for `key`. */
export function withEndTagsSql(rows: SqlFragment, source: TagSource, key: string): SqlFragment {
  if (source.snapshots.length === 0) {
    return sql`(SELECT *, NULL::VARCHAR AS client_tag, NULL::VARCHAR AS server_tag FROM ${rows})`;
  }
  // Spans of one resource never overlap: each end joins at most one span, so no row is repeated.
  const end = (side: 'client' | 'server', alias: string): SqlFragment =>
    sql`LEFT JOIN ${tagSpansSql(source, { tagKey: key })} ${raw(alias)}
    ON ${raw(alias)}.tag_end = ${raw(endKeySql(`r.${side}_instance_id`, `r.${side}_interface_id`, `r.${side}_addr`))}
   AND r.first_seen >= ${raw(alias)}.tag_from AND r.first_seen < ${raw(alias)}.tag_to`;
  return sql`(SELECT r.*, ${key} || '=' || ct.tag_value AS client_tag, ${key} || '=' || st.tag_value AS server_tag
  FROM ${rows} r
  ${end('client', 'ct')}
  ${end('server', 'st')})`;
}
