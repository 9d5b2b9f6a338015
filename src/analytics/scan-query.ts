/**
 * The `scans` view: sources whose failed handshakes (REJECTED, UNANSWERED or RESET) reached many distinct server
 * ports or hosts, from the handshakes relation. Successful handshakes are counted too, for context, but a source
 * needs `minPorts` distinct failed ports or `minHosts` distinct failed hosts to be listed. Named `handshakes.scans`.
 */
import { build, sql, type SqlFragment, type SqlQuery } from '../store/sql.ts';

/** Input of scanQuery: a filtered handshakes relation and the thresholds. */
export interface ScanQueryInput {
  readonly rows: SqlFragment;
  readonly minPorts: number;
  readonly minHosts: number;
  readonly limit: number;
}

/** Scanning sources, most failed targets first, `limit + 1` rows. */
export function scanQuery(input: ScanQueryInput): SqlQuery {
  return build(
    'handshakes.scans',
    sql`SELECT client_addr AS source_addr, min(client_kind) AS source_kind, min(client_instance_id) AS source_instance_id,
       count(*) AS syns,
       count(*) FILTER (state <> 'ESTABLISHED') AS failed,
       count(*) FILTER (state = 'REJECTED') AS rejected,
       count(*) FILTER (state = 'UNANSWERED') AS unanswered,
       count(DISTINCT server_port) FILTER (state <> 'ESTABLISHED') AS failed_ports,
       count(DISTINCT server_addr) FILTER (state <> 'ESTABLISHED') AS failed_hosts,
       count(DISTINCT (server_addr, server_port)) FILTER (state <> 'ESTABLISHED') AS failed_targets,
       min(start_time) AS first_seen, max(start_time) AS last_seen
FROM ${input.rows}
GROUP BY client_addr
HAVING count(DISTINCT server_port) FILTER (state <> 'ESTABLISHED') >= ${input.minPorts}
    OR count(DISTINCT server_addr) FILTER (state <> 'ESTABLISHED') >= ${input.minHosts}
ORDER BY failed_targets DESC, source_addr
LIMIT ${input.limit + 1}`,
  );
}
