/**
 * Which rows of the flows tiers an aggregate reads (the planner behind aggregateScope): the coarsest tier that gives
 * exactly the records' answer for each part of the window.
 *
 *   whole days with a flows_daily file for every flows partition of the day -> flows_daily rows
 *   the other whole hours                                                    -> flows_hourly rows
 *   the partial hours at the window's ends                                   -> flow records (rows of one record)
 *
 * Daily rows are used only when the question's time and rate buckets are whole days (dailyGrainAnswers), hourly rows
 * only when every filter and grouping is one the hourly grain keeps (hourlyGrainAnswers) and every flows partition of
 * the whole hours has its hourly files. A day is covered by its daily files or not at all: the tiers never mix within
 * a day, so no record is counted twice or missed.
 */
import type { FlowFilter } from '../domain/flow-filter.ts';
import { partitionsCovered, type ManifestFile } from '../store/layout.ts';
import { prunePartitions } from '../store/queries/flow-filter-query.ts';
import { dailyGrainAnswers, datesOf, wholeDaysOf } from '../store/queries/flows-daily-query.ts';
import {
  hourlyGrainAnswers,
  splitAtWholeHours,
  type AggregateNeeds,
  type HourSplit,
} from '../store/queries/flows-hourly-query.ts';

/** The files of each tier an aggregate reads, and the window's split at whole hours. */
export interface TierPlan {
  readonly daily: readonly ManifestFile[];
  readonly hourly: readonly ManifestFile[];
  readonly records: readonly ManifestFile[];
  readonly split: HourSplit;
}

/** The tiers' files for `filter` and `needs`; null when only the records answer (read the flows table). */
export function planTiers(files: readonly ManifestFile[], filter: FlowFilter, needs: AggregateNeeds): TierPlan | null {
  if (!hourlyGrainAnswers(filter, needs)) return null;
  const split = splitAtWholeHours(filter.timeRange);
  if (!split) return null;
  const inWholeHours = { ...filter, timeRange: split.wholeHours };
  const flowsOfWholeHours = prunePartitions(files, inWholeHours);
  const hourly = prunePartitions(files, inWholeHours, 'flows_hourly');
  if (flowsOfWholeHours.length === 0 || !partitionsCovered(flowsOfWholeHours, hourly)) return null;
  const days = dailyGrainAnswers(needs) ? wholeDaysOf(split.wholeHours) : null;
  // Map.groupBy is not in Node 20.
  const byDate = (of: readonly ManifestFile[]) => {
    const out = new Map<string, ManifestFile[]>();
    for (const f of of) out.set(f.date, [...(out.get(f.date) ?? []), f]);
    return out;
  };
  const dailyByDate = byDate(days ? prunePartitions(files, { ...filter, timeRange: days }, 'flows_daily') : []);
  const flowsByDate = byDate(flowsOfWholeHours);
  const dailyDates = new Set<string>();
  const daily: ManifestFile[] = [];
  for (const date of days ? datesOf(days) : []) {
    const dayFiles = dailyByDate.get(date) ?? [];
    if (dayFiles.length === 0 || !partitionsCovered(flowsByDate.get(date) ?? [], dayFiles)) continue;
    dailyDates.add(date);
    daily.push(...dayFiles);
  }
  const records = [
    ...new Set(split.partialHours.flatMap((timeRange) => prunePartitions(files, { ...filter, timeRange }))),
  ];
  return { daily, hourly: hourly.filter((f) => !dailyDates.has(f.date)), records, split };
}
