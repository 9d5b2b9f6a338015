/** The order `flowql ingest` loads a backlog in (ingest-run.ts). */
import { objectKeyTime } from '../domain/object-key.ts';
import type { SourceObject } from './sources/source-object.ts';

/**
 * The backlog in the time its keys name (objectKeyTime), objects whose key names none first, each kind in listing
 * order. Why: a listing is in key order, which AWS's layouts make account by account (then region, flow log, day). A
 * commit re-derives the hours it touches, organisation-wide tables included, so a multi-account backfill in key order
 * derived every org hour once per account (the 100M bench: 24k records per CPU-second on the first account, 6.6k once
 * the second arrived); in time order a commit holds every account's records of the same hours.
 */
export function backlogOrder<T extends { obj: Pick<SourceObject, 'key'> }>(backlog: readonly T[]): T[] {
  const timed = backlog.map((item, i) => ({ item, i, time: objectKeyTime(item.obj.key) }));
  timed.sort((a, b) =>
    a.time === b.time ? a.i - b.i : a.time === null ? -1 : b.time === null ? 1 : a.time < b.time ? -1 : 1,
  );
  return timed.map((t) => t.item);
}
