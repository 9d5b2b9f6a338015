/**
 * The connection tables of one derivation run (derive-tables.ts) from shared intermediate tables: the run's
 * observations, address map and handshakes are computed once, each into a temp table, and both `handshakes/` and
 * `edges/` (or their org twins) select their rows from them. Before, each table's statement computed all three
 * itself, so every run paired its handshakes twice and read and normalized its records about a dozen times (the
 * streamed source re-reads them at every use, flow-source.ts).
 *
 * The statements are the CTEs of handshake-query.ts and edge-rows-query.ts, cut where a temp table stands in for a
 * CTE: the same rules over the same records, so the rows are the same (every value is a function of a unit's set of
 * records, never of the order a scan delivers them in).
 */
import { raw, sql, type SqlFragment } from '../store/sql.ts';
import { addressMapCte } from './endpoint-query.ts';
import { edgeRowCtes, edgeRowsSelectSql } from './edge-rows-query.ts';
import type { FlowSource } from './flow-source.ts';
import { handshakeRowsSql, handshakeSessionCtes, resolvedHandshakesCte } from './handshake-query.ts';
import { observationCtes } from './normalized-records-query.ts';

/** The temp tables a connection run shares between its tables, in the order they are created. */
export const CONNECTION_RUN_TABLES = {
  obs: 'derive_obs',
  addrMap: 'derive_addr_map',
  hsSessions: 'derive_hs_sessions',
} as const;

// NOT MATERIALIZED: the CTE stands for a temp table; materializing it would copy the table.
const fromTable = (cte: string, table: string) => `${cte} AS NOT MATERIALIZED (SELECT * FROM ${table})`;
const OBS = raw(fromTable('obs', CONNECTION_RUN_TABLES.obs));
const ADDR_MAP = raw(fromTable('addr_map', CONNECTION_RUN_TABLES.addrMap));
const HS_SESSIONS = raw(fromTable('hs_sessions', CONNECTION_RUN_TABLES.hsSessions));

/**
 * The run's observations (normalized-records-query.ts `obs`), per unit: the contents of `derive_obs`, without the
 * columns only `obs` itself reads, nor those the readers take in another form (srcaddr, dstaddr and dir as
 * `logged_addr`, action as `rejected`). Writing the table is most of the statement's cost, and each string column
 * adds to it: copying a day of bench:ingest's observations (251,094 rows) into a temp table took 104 ms with every
 * column, 20 with none of the strings; dropping four of them took the statement from 236 to 203 ms.
 */
export function runObservationsSql(source: FlowSource): SqlFragment {
  return sql`WITH ${observationCtes(source)}
SELECT * EXCLUDE (flow_direction, interface_type, dir_inferred, srcaddr, dstaddr, dir, action) FROM obs`;
}

/** The run's address map (endpoint-query.ts `addr_map`) over `derive_obs`: the contents of `derive_addr_map`. */
export function runAddressMapSql(): SqlFragment {
  return sql`WITH ${OBS},
${addressMapCte()}
SELECT * FROM addr_map`;
}

/**
 * The run's handshakes before their ends are resolved (handshake-query.ts `hs_sessions`), every unit's: the contents
 * of `derive_hs_sessions`.
 */
export function runHandshakeSessionsSql(): SqlFragment {
  return sql`WITH ${OBS},
${handshakeSessionCtes()}
SELECT * FROM hs_sessions`;
}

/** Handshake rows of the run, per hour, as handshakesFromFlowsSql derives them (ends resolved here). */
export function runHandshakeRowsSql(): SqlFragment {
  return sql`WITH ${HS_SESSIONS},
${ADDR_MAP},
${resolvedHandshakesCte(true)}
${handshakeRowsSql(true)}`;
}

/** Edge rows of the run, per hour, as edgeRowsFromFlowsSql derives them (over the three tables). */
export function runEdgeRowsSql(): SqlFragment {
  return sql`WITH ${OBS},
${ADDR_MAP},
${HS_SESSIONS},
${edgeRowCtes(true)}
${edgeRowsSelectSql(true)}`;
}
