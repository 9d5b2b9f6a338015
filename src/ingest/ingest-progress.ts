/**
 * Progress for `flowql ingest`: a cli-progress bar on a TTY (objects, records, MB, records/s, ETA), plain log lines
 * otherwise (one every ~5 s, so cron mail stays short), and the final summary as text or JSON.
 */
import cliProgress from 'cli-progress';
import { MAX_REJECTS_KEPT } from './ingest-object.ts';
import type { IngestProgress, IngestSummary } from './ingest-run.ts';

/** Receives progress events and log lines; `stop()` before printing the summary. */
export interface ProgressReporter {
  update(p: IngestProgress): void;
  log(line: string): void;
  stop(): void;
}

/** A reporter writing to `out` (stderr): a bar when it is a TTY, plain lines otherwise. */
export function createProgressReporter(out: NodeJS.WriteStream, started = Date.now()): ProgressReporter {
  const rate = (records: number) => Math.round(records / Math.max(0.001, (Date.now() - started) / 1000));
  if (!out.isTTY) {
    let last = 0;
    return {
      update(p) {
        if (Date.now() - last < 5000) return;
        last = Date.now();
        out.write(
          `ingest: ${p.objectsDone} objects, ${p.records} records, ${(p.bytesRead / 1e6).toFixed(1)} MB, ${rate(p.records)} records/s\n`,
        );
      },
      log: (line) => out.write(`ingest: ${line}\n`),
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      stream: out,
      format: '{bar} {value} objects | {records} records | {mb} MB | {rate} records/s | {duration_formatted}',
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(0, 0, { records: 0, mb: '0.0', rate: 0 });
  return {
    update(p) {
      bar.setTotal(Math.max(p.objectsDone, bar.getTotal()));
      bar.update(p.objectsDone, { records: p.records, mb: (p.bytesRead / 1e6).toFixed(1), rate: rate(p.records) });
    },
    log(line) {
      bar.stop();
      out.write(`${line}\n`);
      bar.start(0, 0);
    },
    stop: () => bar.stop(),
  };
}

/** The summary as human-readable lines. */
export function formatSummary(s: IngestSummary): string {
  const o = s.objects;
  const lines = [
    `warehouse    ${s.warehouse}`,
    `objects      ${o.listed} listed, ${o.loaded} loaded (${o.replaced} replaced a changed version), ${o.skipped} unchanged since last run, ${o.notFlowLogs} not flow logs (skipped), ${o.failed} failed`,
    `records      ${s.records}`,
    `rejects      ${s.rejects} (${(s.rejectRatio * 100).toFixed(3)}%; see the rejects table of _flowql/ledger.duckdb` +
      (s.rejectsNotKept > 0
        ? `, which keeps the first ${MAX_REJECTS_KEPT} of each object: ${s.rejectsNotKept} not kept)`
        : ')'),
    `partitions   ${s.partitionsTouched} touched, ${s.filesWritten} files written, ${(s.bytesWritten / 1e6).toFixed(1)} MB`,
    `elapsed      ${(s.elapsedMs / 1000).toFixed(1)} s, ${s.recordsPerSecond} records/s, ${(s.bytesRead / 1e6).toFixed(1)} MB read`,
  ];
  for (const n of s.notFlowLogs) lines.push(`skipped      ${n.uri}: ${n.reason}`);
  for (const f of s.failures) lines.push(`failed       ${f.error}`);
  return `${lines.join('\n')}\n`;
}
