/**
 * `flows_daily/`: the rows of `flows_hourly` summed per UTC day, with the same columns (`start_time` is the day).
 * Written by `flowql compact` for days whose hourly rows are final (src/ingest/daily-compact.ts), never by ingest:
 * an ingest that changes a day's flows retires its daily file in the same commit (derive-tables.ts), so a delivery
 * costs the same whatever the size of its day, and a day without a daily file is read from its hourly rows.
 *
 * Is it worth it? Measured on generated warehouses (`flowql generate --records N --days D`, then `ingest` and
 * `compact`): a day of 50,000 records (1,550,000 over 31 days) has 19,000 hourly rows and 14,400 daily rows (0.76 of
 * them); a day of 133,000 records (400,000 over 3 days) 48,000-52,000 and 33,000-36,000 (0.68-0.70); a day of
 * 400,000 records 140,047 and 90,818 (0.65). Most hourly rows are one exchange seen in one hour only (an ephemeral
 * client), so a day sums away only a quarter to a third of them; the ratio improves slowly with the day's size. So
 * the tier is NOT much smaller on generated data: `npm run bench:tiers` over the 31-day warehouse answers a 31-day
 * summary in 40 ms from daily rows vs 44 ms from hourly rows vs 65 ms from the records (p50 on the busy 2-core
 * machine). Keep it only if real estates (long-lived conversations repeating hour after hour) measure better.
 *
 * The daily grain answers exactly what the hourly grain answers (same key columns, same measures), provided time
 * buckets and rate buckets are whole days: a daily row's start_time is its day, so a finer bucket cannot place it
 * (dailyGrainAnswers). Windows cut inside a day read hourly rows for their other whole hours (flows-tier-query.ts).
 */
import { TIME_INTERVALS, isRateMetric } from '../../domain/aggregate-enums.ts';
import type { TimeRange } from '../../domain/flow-filter.ts';
import { HOURLY_KEY_COLUMNS, type AggregateNeeds } from './flows-hourly-query.ts';
import { raw, sql, type SqlFragment } from '../sql.ts';

const DAY_MS = 86_400_000;

/** BIGINT's largest value: a group summing past it cannot be one Parquet BIGINT row. */
const BIGINT_MAX = '9223372036854775807';

/**
 * The rows of one partition-day's `flows_daily` file from its `flows_hourly` files (read without hive columns, which
 * live in the path: the file holds the same columns as an hourly file). Sorted by every key, so two compactions of the
 * same hourly rows write the same file row for row.
 *
 * As in hourlyRollupFromFlowsSql, a group whose bytes or packets sum past BIGINT is not summed: its hourly rows stay,
 * re-timed to the day, so every byte is kept in BIGINT columns. Readers sum rows either way.
 */
export function dailyRollupFromHourlySql(hourlyFiles: readonly string[]): SqlFragment {
  if (hourlyFiles.length === 0) throw new Error('flows_daily: no hourly files to sum');
  const keys = HOURLY_KEY_COLUMNS.join(', ');
  const sameGroup = ['day', ...HOURLY_KEY_COLUMNS].map((k) => `o.${k} IS NOT DISTINCT FROM h.${k}`).join(' AND ');
  const tooBig = `coalesce(packets > ${BIGINT_MAX} OR bytes > ${BIGINT_MAX}, FALSE)`;
  return sql`WITH h AS (
  SELECT *, time_bucket(INTERVAL '1 day', start_time) AS day FROM read_parquet(${hourlyFiles}, hive_partitioning = false)
),
g AS (
  SELECT day, ${raw(keys)}, sum(records) AS records, sum(packets) AS packets, sum(bytes) AS bytes,
         min(first_seen) AS first_seen, max(last_seen) AS last_seen
  FROM h GROUP BY day, ${raw(keys)}
),
over AS (SELECT * FROM g WHERE ${raw(tooBig)})
SELECT day AS start_time, ${raw(keys)}, CAST(records AS BIGINT) AS records, CAST(packets AS BIGINT) AS packets,
       CAST(bytes AS BIGINT) AS bytes, first_seen, last_seen
FROM (
  SELECT * FROM g WHERE NOT ${raw(tooBig)}
  UNION ALL
  SELECT h.day, ${raw(HOURLY_KEY_COLUMNS.map((k) => `h.${k}`).join(', '))}, h.records, h.packets, h.bytes,
         h.first_seen, h.last_seen
  FROM h JOIN over AS o ON ${raw(sameGroup)}
)
ORDER BY start_time, ${raw(keys)}, first_seen, last_seen, bytes, packets, records`;
}

/** The whole UTC days inside a window, as [from, to) at midnights; null when it holds no whole day. */
export function wholeDaysOf(range: TimeRange): TimeRange | null {
  const from = Math.ceil(range.from.getTime() / DAY_MS) * DAY_MS;
  const to = Math.floor(range.to.getTime() / DAY_MS) * DAY_MS;
  return from < to ? { from: new Date(from), to: new Date(to) } : null;
}

/** The UTC dates (YYYY-MM-DD) of the whole days of `days` (a range at midnights), in order. */
export function datesOf(days: TimeRange): string[] {
  const out: string[] = [];
  for (let t = days.from.getTime(); t < days.to.getTime(); t += DAY_MS)
    out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

const wholeDays = (seconds: number) => (seconds * 1000) % DAY_MS === 0;

/**
 * True when daily rows may stand for the whole days of a question the hourly grain answers (hourlyGrainAnswers is
 * checked first): its time buckets and rate buckets are whole days, so each daily row falls in one bucket.
 */
export function dailyGrainAnswers(needs: AggregateNeeds): boolean {
  if (needs.interval !== undefined && !wholeDays(TIME_INTERVALS[needs.interval])) return false;
  if (needs.values?.some(isRateMetric)) {
    if (needs.rateInterval === undefined || !wholeDays(TIME_INTERVALS[needs.rateInterval])) return false;
  }
  return true;
}
