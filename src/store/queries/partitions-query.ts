/**
 * `flows.interfaceStatus`: per network interface, how many records logged normally and how many windows were NODATA
 * (no traffic) or SKIPDATA (records lost by AWS), so a user can tell a quiet interface from a gap in coverage.
 * The partition list itself comes from the manifest (src/questions/partition-reader.ts), not from SQL.
 */
import { build, raw, sql, type SqlQuery } from '../sql.ts';
import { type AggregateScope, okRecordsSql, valueSql } from './aggregate-expressions.ts';

/** Interfaces with the most SKIPDATA then NODATA records first; `limit + 1` rows to detect truncation. */
export function buildInterfaceStatusQuery(scope: AggregateScope, limit: number): SqlQuery {
  const g = scope.grain;
  const values = raw(
    [
      `${valueSql('RECORDS', g)} AS records`,
      `${okRecordsSql(g)} AS ok_records`,
      `${valueSql('NODATA_RECORDS', g)} AS nodata_records`,
      `${valueSql('SKIPDATA_RECORDS', g)} AS skipdata_records`,
      `${valueSql('FIRST_SEEN', g)} AS first_seen`,
      `${valueSql('LAST_SEEN', g)} AS last_seen`,
    ].join(', '),
  );
  return build(
    'flows.interfaceStatus',
    sql`SELECT account_id, region, interface_id, ${values} FROM ${scope.source} WHERE ${scope.where} GROUP BY account_id, region, interface_id ORDER BY skipdata_records DESC, nodata_records DESC, account_id, region, interface_id NULLS LAST LIMIT ${limit + 1}`,
  );
}
