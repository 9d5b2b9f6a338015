/**
 * `flowql ingest --watch`: continuous ingest as the same incremental run repeated every interval (objects already
 * loaded are skipped by ETag or size+mtime, so nothing is loaded twice). SIGINT/SIGTERM stop the loop: a run in
 * progress finishes and commits first (a second signal exits at once, leaving the run to crash recovery).
 */

/** What the loop needs: one ingest run (its exit code), the pause between run starts, and where to report. */
export interface WatchOptions {
  readonly runOnce: () => Promise<number>;
  readonly intervalMs: number;
  readonly stderr: { write(text: string): unknown };
  /** The process to take signals from (tests pass an EventEmitter). */
  readonly signals: Pick<NodeJS.Process, 'on' | 'off'>;
  /** Called on a second signal (default: process.exit(130)). */
  readonly forceExit?: () => void;
}

/** Runs until a signal; returns the exit code of the last run (1 when the last run threw). */
export async function watchIngest(o: WatchOptions): Promise<number> {
  let stopping = false;
  let wake = () => {};
  const onSignal = (signal: string) => {
    if (stopping) {
      o.stderr.write(`flowql ingest --watch: ${signal} again, exiting without finishing the run\n`);
      (o.forceExit ?? (() => process.exit(130)))();
      return;
    }
    stopping = true;
    o.stderr.write(`flowql ingest --watch: ${signal}, stopping after the current run\n`);
    wake();
  };
  o.signals.on('SIGINT', onSignal);
  o.signals.on('SIGTERM', onSignal);
  let code = 0;
  try {
    while (!stopping) {
      const started = Date.now();
      try {
        code = await o.runOnce();
      } catch (err) {
        // A warehouse or listing problem (S3 briefly unreachable, say) is reported and retried at the next interval.
        code = 1;
        o.stderr.write(
          `flowql ingest --watch: run failed, retrying in ${o.intervalMs / 1000} s: ${(err as Error).message}\n`,
        );
      }
      const wait = Math.max(0, o.intervalMs - (Date.now() - started));
      if (!stopping)
        await new Promise<void>((done) => {
          const timer = setTimeout(done, wait);
          wake = () => {
            clearTimeout(timer);
            done();
          };
        });
    }
  } finally {
    o.signals.off('SIGINT', onSignal);
    o.signals.off('SIGTERM', onSignal);
  }
  return code;
}
