/**
 * Records without flow-direction (v2-v4) that the connection rules read: their direction is inferred from the
 * interface's own addresses, judged from the whole UTC day (normalized-records-query.ts), so a day holding one is
 * derived whole (derive-tables.ts). Whether a flows file holds one is a fact of the file, written into its Parquet
 * footer when flowql writes it (parquet-writer.ts), so a derivation reads it from the footer instead of scanning the
 * day's files at every delivery (2.2M records a day: 0.05-0.065 CPU s of a 3-object delivery's 1.2). Files without
 * the key (written before it, or by another writer) are scanned (derive-inputs.ts fileStats).
 */
import { runBound, type Connection } from '../store/query-runner.ts';
import { build, sql } from '../store/sql.ts';

/** The Parquet key-value metadata key, its value 'true' or 'false'. */
export const UNDIRECTED_KV_KEY = 'flowql_undirected_records';

/**
 * SQL: the record has addresses and a start but no flow-direction. `has(column)` says whether the relation holds the
 * column; a missing one reads as NULL (a batch of a layout without flow-direction).
 */
export function undirectedRecordSql(has: (column: string) => boolean = () => true): string {
  const col = (c: string) => (has(c) ? c : 'NULL');
  return `(${col('flow_direction')} IS NULL AND ${col('srcaddr')} IS NOT NULL AND ${col('dstaddr')} IS NOT NULL AND ${col('start_time')} IS NOT NULL)`;
}

/** The COPY option writing the fact into a Parquet file's footer. */
export const undirectedKvOption = (undirected: boolean): string =>
  `KV_METADATA {${UNDIRECTED_KV_KEY}: '${undirected ? 'true' : 'false'}'}`;

/** What the footers of `paths` say, for the files that carry the key (a file without it is not in the map). */
export async function undirectedFromFooters(c: Connection, paths: readonly string[]): Promise<Map<string, boolean>> {
  const said = new Map<string, boolean>();
  if (paths.length === 0) return said;
  const q = build(
    'flows.undirectedFooters',
    sql`SELECT file_name, decode(value) AS value FROM parquet_kv_metadata(${paths}) WHERE decode(key) = ${UNDIRECTED_KV_KEY}`,
  );
  for (const r of (await runBound(c, q)).getRowObjectsJS()) said.set(String(r.file_name), r.value === 'true');
  return said;
}
