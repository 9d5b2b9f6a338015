/**
 * A small Prometheus registry (text exposition format 0.0.4): counters, histograms and gauges with labels. Small on
 * purpose: flowql needs a handful of series, and the format is three line shapes. Label values are escaped; names are
 * written in this codebase only.
 */

/** Label values of one series, by label name. */
export type Labels = Readonly<Record<string, string>>;

/** Default latency buckets in seconds: 5 ms to 30 s. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

/** A monotonically increasing count. */
export interface Counter {
  inc(labels?: Labels, by?: number): void;
  /** Current value of one series (0 when never incremented). */
  get(labels?: Labels): number;
}

/** Observations into cumulative buckets, with their sum and count. */
export interface Histogram {
  observe(labels: Labels, value: number): void;
}

interface Metric {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'histogram' | 'gauge';
  render(out: string[]): void;
}

const escapeLabel = (v: string): string => v.replaceAll('\\', '\\\\').replaceAll('\n', '\\n').replaceAll('"', '\\"');

function labelText(labels: Labels, extra?: [string, string]): string {
  const pairs = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
  if (extra) pairs.push(extra);
  return pairs.length ? `{${pairs.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}` : '';
}

const keyOf = (labels: Labels): string => labelText(labels);
const number = (n: number): string => (Number.isFinite(n) ? String(n) : n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN');

/** The registry the server's /metrics renders. */
export class MetricsRegistry {
  private readonly metrics = new Map<string, Metric>();

  private add<M extends Metric>(metric: M): M {
    if (this.metrics.has(metric.name)) throw new Error(`metric ${metric.name} is registered twice`);
    this.metrics.set(metric.name, metric);
    return metric;
  }

  /** A counter named `name` (by convention ending in `_total`). */
  counter(name: string, help: string): Counter {
    const series = new Map<string, { labels: Labels; value: number }>();
    this.add({
      name,
      help,
      type: 'counter',
      render: (out) => {
        for (const s of series.values()) out.push(`${name}${labelText(s.labels)} ${number(s.value)}`);
      },
    });
    return {
      inc(labels = {}, by = 1) {
        const key = keyOf(labels);
        const s = series.get(key);
        if (s) s.value += by;
        else series.set(key, { labels, value: by });
      },
      get: (labels = {}) => series.get(keyOf(labels))?.value ?? 0,
    };
  }

  /** A histogram over `buckets` (upper bounds, ascending). */
  histogram(name: string, help: string, buckets: readonly number[] = LATENCY_BUCKETS): Histogram {
    const series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
    this.add({
      name,
      help,
      type: 'histogram',
      render: (out) => {
        for (const s of series.values()) {
          buckets.forEach((le, i) =>
            out.push(`${name}_bucket${labelText(s.labels, ['le', number(le)])} ${s.counts[i]}`),
          );
          out.push(`${name}_bucket${labelText(s.labels, ['le', '+Inf'])} ${s.count}`);
          out.push(`${name}_sum${labelText(s.labels)} ${number(s.sum)}`);
          out.push(`${name}_count${labelText(s.labels)} ${s.count}`);
        }
      },
    });
    return {
      observe(labels, value) {
        const key = keyOf(labels);
        let s = series.get(key);
        if (!s) series.set(key, (s = { labels, counts: buckets.map(() => 0), sum: 0, count: 0 }));
        buckets.forEach((le, i) => {
          if (value <= le) s.counts[i]! += 1;
        });
        s.sum += value;
        s.count += 1;
      },
    };
  }

  /** A gauge read when /metrics is scraped (in-flight requests, manifest generation...). */
  gauge(name: string, help: string, read: () => readonly { labels?: Labels; value: number }[]): void {
    this.add({
      name,
      help,
      type: 'gauge',
      render: (out) => {
        for (const s of read()) out.push(`${name}${labelText(s.labels ?? {})} ${number(s.value)}`);
      },
    });
  }

  /** The exposition text (content type `text/plain; version=0.0.4`). */
  render(): string {
    const out: string[] = [];
    for (const m of this.metrics.values()) {
      out.push(`# HELP ${m.name} ${m.help.replaceAll('\\', '\\\\').replaceAll('\n', '\\n')}`);
      out.push(`# TYPE ${m.name} ${m.type}`);
      m.render(out);
    }
    return `${out.join('\n')}\n`;
  }
}
