/**
 * The `scans` view: sources that reached many distinct ports or hosts without getting connections, judged on one of
 * two kinds of evidence (docs/semantics.md §9):
 * - FAILED_HANDSHAKES: handshakes (REJECTED, UNANSWERED or RESET) from the handshakes relation. Successful handshakes
 *   are counted too, for context, but a source needs `minPorts` distinct failed ports or `minHosts` distinct failed
 *   hosts to be listed.
 * - REJECTED_RECORDS: rejected TCP records that carry no tcp-flags (the v2 default format, custom formats without
 *   the field), which no handshake can be paired from. A source needs `minPorts` distinct destination ports or
 *   `minHosts` distinct destination addresses among its rejected records.
 * A source is listed once: on its failed handshakes when they pass the thresholds, else on its rejected records when
 * they do (so a scan of a v2 VPC is not hidden by a few handshakes of the same source in a v5 VPC). Named
 * `handshakes.scans`.
 */
import type { FlowFilter } from '../domain/flow-filter.ts';
import { flowFilterSql, recordConditionSql } from '../store/queries/flow-filter-query.ts';
import { parquetSourceSql } from '../store/queries/parquet-source-query.ts';
import { build, join, sql, type SqlFragment, type SqlQuery } from '../store/sql.ts';

/** Input of scanQuery: a filtered handshakes relation, the rejected records relation and the thresholds. */
export interface ScanQueryInput {
  readonly rows: SqlFragment;
  /** rejectedRecordsSql(...): rejected TCP records without tcp-flags, as `srcaddr, dstaddr, dstport, start_time`. */
  readonly records: SqlFragment;
  readonly minPorts: number;
  readonly minHosts: number;
  readonly limit: number;
}

/**
 * The connection meaning of `f` (connection-filter-query.ts) as conditions over flow records: `port` and `notPorts`
 * mean the server port on connections, so on an attempt's record they are its destination port; every other field
 * means the same on a record whose source is the client (`srcAddr`, `srcPort` the scanner, `dstAddr`, `dstPort` the
 * target, ids the interface that logged the record). `port` is ANDed as a condition on the destination port, beside
 * `dstPort` if both are given.
 */
function attemptFilterSql(f: FlowFilter): SqlFragment {
  const parts = [flowFilterSql({ ...f, port: null, notPorts: null })];
  if (f.port) parts.push(recordConditionSql('dstPort', f.port));
  if (f.notPorts) parts.push(recordConditionSql('notDstPort', f.notPorts));
  return join(parts, '\n  AND ');
}

/**
 * Rejected TCP records without tcp-flags under `f`, read from the flows files given (already pruned). A record whose
 * source port is lower than its destination port is a server's reply by the port rule (semantics.md §4), e.g. an
 * answer a network ACL dropped on its way back: it is not an attempt of its source and is left out, or a busy server
 * behind such an ACL would look like a scanner of its clients' ephemeral ports. Filter fields that connections
 * refuse (actions, tcpFlags, ...) must have been refused before this is built (connectionFilterSql).
 */
export function rejectedRecordsSql(files: readonly string[], f: FlowFilter): SqlFragment {
  return sql`(SELECT srcaddr, dstaddr, dstport, start_time FROM ${parquetSourceSql(files)}
  WHERE action = 'REJECT' AND protocol = 6 AND tcp_flags IS NULL AND srcaddr IS NOT NULL AND dstaddr IS NOT NULL
    AND coalesce(srcport >= dstport, TRUE)
    AND ${attemptFilterSql(f)})`;
}

/** Scanning sources, most failed targets first, `limit + 1` rows. */
export function scanQuery(input: ScanQueryInput): SqlQuery {
  return build(
    'handshakes.scans',
    sql`WITH by_handshakes AS (
  SELECT client_addr AS source_addr, 'FAILED_HANDSHAKES' AS evidence,
         min(client_kind) AS source_kind, min(client_instance_id) AS source_instance_id,
         count(*) AS syns,
         count(*) FILTER (state <> 'ESTABLISHED') AS failed,
         count(*) FILTER (state = 'REJECTED') AS rejected,
         count(*) FILTER (state = 'UNANSWERED') AS unanswered,
         CAST(NULL AS BIGINT) AS rejected_records,
         count(DISTINCT server_port) FILTER (state <> 'ESTABLISHED') AS failed_ports,
         count(DISTINCT server_addr) FILTER (state <> 'ESTABLISHED') AS failed_hosts,
         count(DISTINCT (server_addr, server_port)) FILTER (state <> 'ESTABLISHED') AS failed_targets,
         min(start_time) AS first_seen, max(start_time) AS last_seen
  FROM ${input.rows}
  GROUP BY client_addr
  HAVING count(DISTINCT server_port) FILTER (state <> 'ESTABLISHED') >= ${input.minPorts}
      OR count(DISTINCT server_addr) FILTER (state <> 'ESTABLISHED') >= ${input.minHosts}
), by_records AS (
  SELECT srcaddr AS source_addr, 'REJECTED_RECORDS' AS evidence,
         CAST(NULL AS VARCHAR) AS source_kind, CAST(NULL AS VARCHAR) AS source_instance_id,
         CAST(NULL AS BIGINT) AS syns, CAST(NULL AS BIGINT) AS failed, CAST(NULL AS BIGINT) AS rejected,
         CAST(NULL AS BIGINT) AS unanswered,
         count(*) AS rejected_records,
         count(DISTINCT dstport) AS failed_ports,
         count(DISTINCT dstaddr) AS failed_hosts,
         count(DISTINCT (dstaddr, dstport)) AS failed_targets,
         min(start_time) AS first_seen, max(start_time) AS last_seen
  FROM ${input.records}
  GROUP BY srcaddr
  HAVING count(DISTINCT dstport) >= ${input.minPorts} OR count(DISTINCT dstaddr) >= ${input.minHosts}
)
SELECT * FROM by_handshakes
UNION ALL BY NAME
SELECT * FROM by_records r WHERE NOT EXISTS (SELECT 1 FROM by_handshakes h WHERE h.source_addr = r.source_addr)
ORDER BY failed_targets DESC, source_addr
LIMIT ${input.limit + 1}`,
  );
}
