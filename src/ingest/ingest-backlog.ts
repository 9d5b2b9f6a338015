/**
 * What an ingest run has to load: the listing of its sources (whole, or the recent day folders a `--watch` run lists:
 * sources/recent-listing.ts) against the ledger. An object already loaded, or already found not to be a flow log, in
 * the version listed is skipped; any other is pending, with the source id of the loaded version it replaces. The whole
 * listing comes first: the run then loads the backlog in time order (backlog-order.ts), not in a key's order.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { loadedSources, skippedSources } from './ledger.ts';
import type { RecentListing } from './sources/recent-listing.ts';
import { listSourceObjects, type SourceListOptions } from './sources/source-list.ts';
import type { SourceObject } from './sources/source-object.ts';

/** An object to load, and the source id of the loaded version it replaces. */
export interface PendingObject {
  readonly obj: SourceObject;
  readonly replaces: number | undefined;
}

/** The listing and its verdicts: objects listed (each uri once), skipped as unchanged, and pending. */
export interface Backlog {
  readonly listed: number;
  readonly skipped: number;
  readonly pending: readonly PendingObject[];
}

/** Lists `sources` (through `listing` when given) and sorts what it finds against the ledger on `c`. */
export async function listBacklog(
  c: DuckDBConnection,
  sources: readonly string[],
  opts: SourceListOptions & { readonly listing?: RecentListing; readonly log: (line: string) => void },
): Promise<Backlog> {
  const loaded = await loadedSources(c);
  const notFlowLog = await skippedSources(c);
  const { listing, log } = opts;
  const scope = listing?.begin();
  if (scope?.kind === 'recent') log(`listing the day folders of ${scope.days.join(' and ')} (UTC) and the newest only`);
  const listAll = (uri: string) => listSourceObjects(uri, opts);
  const seen = new Set<string>();
  const pending: PendingObject[] = [];
  let skipped = 0;
  for (const source of sources) {
    for await (const obj of listing ? listing.list(source, listAll) : listAll(source)) {
      if (seen.has(obj.uri)) continue;
      seen.add(obj.uri);
      const before = loaded.get(obj.uri);
      if (before?.version === obj.version || notFlowLog.get(obj.uri) === obj.version) skipped++;
      else pending.push({ obj, replaces: before?.sourceId });
    }
  }
  listing?.listed();
  return { listed: seen.size, skipped, pending };
}
