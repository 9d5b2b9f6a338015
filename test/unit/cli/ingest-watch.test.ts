/** The --watch loop with a fake signal source: a signal during a run lets it finish; one during the pause ends at once. */
import { EventEmitter } from 'node:events';
import { expect, it } from 'vitest';
import { watchIngest } from '../../../src/cli/ingest-watch.ts';

function harness(runs: (n: number) => Promise<number>, intervalMs: number) {
  const signals = new EventEmitter();
  const text: string[] = [];
  let forced = 0;
  let count = 0;
  const done = watchIngest({
    runOnce: () => runs(++count),
    intervalMs,
    stderr: { write: (t: string) => text.push(t) },
    signals: signals as unknown as Pick<NodeJS.Process, 'on' | 'off'>,
    forceExit: () => (forced += 1),
  });
  return { signals, text, done, runs: () => count, forced: () => forced };
}

it('finishes the run in progress on SIGTERM and returns its code, without starting another', async () => {
  const signals: { emit(s: string, v: string): void }[] = [];
  const h = harness((n) => {
    if (n === 1) return Promise.resolve(0);
    signals[0]!.emit('SIGTERM', 'SIGTERM'); // the signal arrives while run 2 is in progress
    return new Promise<number>((r) => setTimeout(() => r(3), 20));
  }, 10);
  signals.push(h.signals);
  expect(await h.done).toBe(3);
  expect([h.runs(), h.forced()]).toEqual([2, 0]);
  expect(h.text).toEqual(['flowql ingest --watch: SIGTERM, stopping after the current run\n']);
  expect(h.signals.listenerCount('SIGTERM')).toBe(0);
});

it('stops during the pause at once, reports a failed run and retries, and force-exits on a second signal', async () => {
  const h = harness((n) => (n === 1 ? Promise.reject(new Error('S3 unreachable')) : Promise.resolve(0)), 60_000);
  while (h.text.length === 0) await new Promise((r) => setTimeout(r, 5)); // run 1 failed, pausing for a minute
  const started = Date.now();
  h.signals.emit('SIGINT', 'SIGINT');
  h.signals.emit('SIGINT', 'SIGINT');
  expect(await h.done).toBe(1);
  expect(Date.now() - started).toBeLessThan(1000);
  expect([h.runs(), h.forced()]).toEqual([1, 1]);
  expect(h.text).toEqual([
    'flowql ingest --watch: run failed, retrying in 60 s: S3 unreachable\n',
    'flowql ingest --watch: SIGINT, stopping after the current run\n',
    'flowql ingest --watch: SIGINT again, exiting without finishing the run\n',
  ]);
});
