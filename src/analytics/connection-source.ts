/**
 * Chooses where a connection question reads from: the derived table (`handshakes/` or `edges/`) when every flows
 * partition of the filter's range has a derived file, otherwise the raw flows of the range widened by one day on
 * each side (pairing crosses midnight), paired at query time. The fallback keeps answers exact on warehouses whose
 * derivation has not run (or not caught up); it is slow on large ranges, which is why derivation exists.
 */
import type { ConnectionTable } from '../domain/connection-enums.ts';
import type { FlowFilter } from '../domain/flow-filter.ts';
import { partitionsCovered, type ManifestFile } from '../store/layout.ts';
import { prunePartitions } from '../store/queries/flow-filter-query.ts';
import { raw, sql, type SqlFragment } from '../store/sql.ts';
import { derivedScanSql } from './flow-source.ts';
import { edgeRowsFromFlowsSql } from './edge-rows-query.ts';
import { handshakesFromFlowsSql } from './handshake-query.ts';

/** The rows relation of a connection question and the manifest files it reads. */
export interface ConnectionSource {
  readonly rows: SqlFragment;
  readonly files: readonly ManifestFile[];
  readonly derived: boolean;
}

const DAY_MS = 86_400_000;

/** Picks the derived table or the raw fallback for `table` under `filter`; `absolute` maps a file to its path. */
export function connectionSource(
  files: readonly ManifestFile[],
  filter: FlowFilter,
  table: ConnectionTable,
  absolute: (f: ManifestFile) => string,
): ConnectionSource {
  const flows = prunePartitions(files, filter, 'flows');
  if (flows.length === 0) {
    // No record in the window: pairing no records gives the table's columns and no rows (an empty derived file list
    // has no columns to bind, and the neighbour days of the raw fallback could not add a row inside the window).
    const rows = table === 'handshakes' ? handshakesFromFlowsSql({ files: [] }) : edgeRowsFromFlowsSql({ files: [] });
    return { rows: sql`(${rows})`, files: [], derived: false };
  }
  const derived = prunePartitions(files, filter, table);
  if (partitionsCovered(flows, derived)) {
    return {
      rows: derivedScanSql(derived.map(absolute), raw('(SELECT NULL AS none WHERE FALSE)')),
      files: derived,
      derived: true,
    };
  }
  const { from, to } = filter.timeRange;
  const wide = {
    ...filter,
    timeRange: { from: new Date(from.getTime() - DAY_MS), to: new Date(to.getTime() + DAY_MS) },
  };
  const rawFiles = prunePartitions(files, wide, 'flows');
  const source = { files: rawFiles.map(absolute) };
  const rows = table === 'handshakes' ? handshakesFromFlowsSql(source) : edgeRowsFromFlowsSql(source);
  return { rows: sql`(${rows})`, files: rawFiles, derived: false };
}
