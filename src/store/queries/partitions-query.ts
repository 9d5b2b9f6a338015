/**
 * `flows.interfaceStatus`: per network interface, how many records logged normally and how many windows were NODATA
 * (no traffic) or SKIPDATA (records lost by AWS), so a user can tell a quiet interface from a gap in coverage.
 * The partition list itself comes from the manifest (src/store/readers/partition-reader.ts), not from SQL.
 */
import { build, sql, type SqlQuery } from '../sql.ts';
import type { AggregateScope } from './aggregate-expressions.ts';

/** Interfaces with the most SKIPDATA then NODATA records first; `limit + 1` rows to detect truncation. */
export function buildInterfaceStatusQuery(scope: AggregateScope, limit: number): SqlQuery {
  return build(
    'flows.interfaceStatus',
    sql`SELECT account_id, region, interface_id, count(*) AS records, count(*) FILTER (WHERE log_status = 'OK') AS ok_records, count(*) FILTER (WHERE log_status = 'NODATA') AS nodata_records, count(*) FILTER (WHERE log_status = 'SKIPDATA') AS skipdata_records, min(start_time) AS first_seen, max(coalesce(end_time, start_time)) AS last_seen FROM ${scope.source} WHERE ${scope.where} GROUP BY account_id, region, interface_id ORDER BY skipdata_records DESC, nodata_records DESC, account_id, region, interface_id NULLS LAST LIMIT ${limit + 1}`,
  );
}
