/**
 * Timing a subject next to its baseline in the same run (bench:api, bench:scale): calls alternate (A, B, A, B, ...)
 * so that load from other processes hits both alike; wall-time p50/p95 and the p50 of CPU time per call.
 */

/** Wall-time p50/p95 and CPU-time p50 (ms) of a series of calls. */
export interface Figures {
  readonly p50: number;
  readonly p95: number;
  readonly cpu: number;
}

/** One side of a pair: what to call, and a reader of cumulative CPU ms of whoever does the work. */
export interface TimedSide {
  readonly run: () => Promise<unknown>;
  /** Default: this process's CPU time (user + system, every thread: server, client and DuckDB alike). */
  readonly cpuMs?: () => number;
}

/** This process's CPU time so far, ms. */
export const processCpuMs = (): number => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

/** Nearest-rank quantile. */
export const quantile = (values: readonly number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
};

/** Times `subject` and `baseline` alternately, `runs` calls each after `warmups` calls of each. */
export async function measurePair(
  subject: TimedSide | (() => Promise<unknown>),
  baseline: TimedSide | (() => Promise<unknown>),
  runs: number,
  warmups = 5,
): Promise<[Figures, Figures]> {
  const sides = [subject, baseline].map((s) => (typeof s === 'function' ? { run: s } : s));
  for (let i = 0; i < warmups; i++) for (const s of sides) await s.run();
  const wall: [number[], number[]] = [[], []];
  const cpu: [number[], number[]] = [[], []];
  for (let i = 0; i < runs; i++) {
    for (const [k, side] of sides.entries()) {
      const cpuMs = side.cpuMs ?? processCpuMs;
      const c0 = cpuMs();
      const t = performance.now();
      await side.run();
      wall[k]!.push(performance.now() - t);
      cpu[k]!.push(cpuMs() - c0);
    }
  }
  const figures = (k: 0 | 1): Figures => ({
    p50: quantile(wall[k], 0.5),
    p95: quantile(wall[k], 0.95),
    cpu: quantile(cpu[k], 0.5),
  });
  return [figures(0), figures(1)];
}
