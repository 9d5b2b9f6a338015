/**
 * ISO-8601 durations of fixed length (`PT24H`, `P7D`, `PT15M`, `P1W`, `P1DT12H`), for relative time windows such as
 * `timeRange: { last: "PT24H" }`. Months and years are refused: their length depends on the calendar, and a saved
 * dashboard that asks for "the last month" means a calendar month, which is a window with `from`/`to`.
 */

const DURATION = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d{1,3})?)S)?)?$/i;

/** What `parseIsoDuration` accepts, in words (for error messages). */
export const ISO_DURATION_EXPECTED =
  'an ISO-8601 duration of weeks, days, hours, minutes or seconds such as PT24H, P7D or PT15M (no months or years)';

/** Milliseconds of a fixed-length ISO-8601 duration; null when malformed, zero, or in months/years. */
export function parseIsoDuration(text: string): number | null {
  const m = DURATION.exec(text.trim());
  if (!m || text.trim().toUpperCase().endsWith('T')) return null;
  const [, w, d, h, mi, s] = m;
  if ([w, d, h, mi, s].every((part) => part === undefined)) return null;
  const ms =
    (Number(w ?? 0) * 7 * 86_400 + Number(d ?? 0) * 86_400 + Number(h ?? 0) * 3_600 + Number(mi ?? 0) * 60) * 1000 +
    Math.round(Number(s ?? 0) * 1000);
  return ms > 0 && Number.isSafeInteger(ms) ? ms : null;
}
