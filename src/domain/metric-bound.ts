/**
 * `having`: bounds on a group's metrics (top-N and breakdown keep only the groups within every bound). Validated here
 * once for GraphQL (`having: [MetricBoundInput!]`) and the datasets (`having=BYTES>=1000000`), so both refuse the same
 * input with the same argument path.
 */
import { AGGREGATE_LIMITS, type FlowMetric } from './aggregate-enums.ts';
import { InputError } from './input-error.ts';

/** Keep a group when `min <= metric <= max` (either bound may be absent, not both). A null metric is never within. */
export interface MetricBound {
  readonly metric: FlowMetric;
  readonly min: number | null;
  readonly max: number | null;
}

/** The bounds of `argument` (`having`), or an InputError naming the offending one (`having[0].min`). */
export function checkMetricBounds(
  argument: string,
  bounds: readonly { metric: FlowMetric; min?: number | null | undefined; max?: number | null | undefined }[],
): MetricBound[] {
  if (bounds.length > AGGREGATE_LIMITS.maxHaving) {
    throw new InputError(argument, `at most ${AGGREGATE_LIMITS.maxHaving} bounds`, bounds.length);
  }
  return bounds.map((b, i) => {
    const min = b.min ?? null;
    const max = b.max ?? null;
    if (min === null && max === null) throw new InputError(`${argument}[${i}]`, 'a min, a max or both');
    if (min !== null && !Number.isFinite(min)) throw new InputError(`${argument}[${i}].min`, 'a finite number', min);
    if (max !== null && !Number.isFinite(max)) throw new InputError(`${argument}[${i}].max`, 'a finite number', max);
    if (min !== null && max !== null && max < min) {
      throw new InputError(`${argument}[${i}].max`, `a number at least min (${min})`, max);
    }
    return { metric: b.metric, min, max };
  });
}

const BOUND_TEXT = /^([A-Za-z0-9_]+)\s*(>=|<=)\s*(-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)$/;

/**
 * Bounds written as text, one per item (`BYTES>=1000000`, `distinct_dst_ports>=100`, `AVG_BYTES<=1500`; the metric
 * case-insensitive, `>=` a min and `<=` a max, both inclusive), as the datasets' `having` parameter carries them.
 * Errors name the item (`having[1]`), then the bound as checkMetricBounds does.
 */
export function metricBoundsFromText(
  argument: string,
  texts: readonly string[],
  metrics: readonly FlowMetric[],
): MetricBound[] {
  // `BYTES>=10&BYTES<=500` is one bound with both ends, as GraphQL's { metric: BYTES, min: 10, max: 500 }: merged per
  // metric, so a max below its min is refused the same way; a second min (or max) of one metric is refused.
  const bounds: { metric: FlowMetric; min?: number; max?: number }[] = [];
  texts.forEach((text, i) => {
    const m = BOUND_TEXT.exec(text.trim());
    if (!m) throw new InputError(`${argument}[${i}]`, 'METRIC>=number or METRIC<=number, such as BYTES>=1000000', text);
    const metric = m[1]!.toUpperCase() as FlowMetric;
    if (!metrics.includes(metric)) throw new InputError(`${argument}[${i}]`, `a metric of ${metrics.join(', ')}`, m[1]);
    const end = m[2] === '>=' ? 'min' : 'max';
    const bound = bounds.find((b) => b.metric === metric) ?? (bounds.push({ metric }), bounds[bounds.length - 1]!);
    if (bound[end] !== undefined)
      throw new InputError(`${argument}[${i}]`, `one ${end} per metric (${metric} has one)`, text);
    bound[end] = Number(m[3]);
  });
  return checkMetricBounds(argument, bounds);
}
