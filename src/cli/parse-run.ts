/**
 * The body of `flowql parse`, loaded lazily by parse-command.ts: reads each file with the flow-file reader and prints
 * records as JSON lines, rejects as `file:line: reason`. Kept apart so `flowql --help` loads no parser or DuckDB.
 */
import { createReadStream } from 'node:fs';
import { once } from 'node:events';
import { readFlowBatches } from '../ingest/flow-file-reader.ts';
import { FlowFormatError, type FlowRecord } from '../ingest/line-parser.ts';

/** Epoch columns printed as ISO-8601 UTC rather than Unix seconds, for people reading the output. */
const TIME_COLUMNS = ['start_time', 'end_time'] as const;

/** A record as printed: epoch seconds become ISO-8601 strings. */
export function recordToJson(record: FlowRecord): string {
  const out: FlowRecord = { ...record };
  for (const c of TIME_COLUMNS) {
    const v = out[c];
    if (typeof v === 'number') out[c] = new Date(v * 1000).toISOString().replace('.000Z', 'Z');
  }
  return JSON.stringify(out);
}

/** Runs the command; returns the exit code (1 when some file was not a flow log or could not be read). */
export async function runParse(
  files: readonly string[],
  opts: { format?: string; limit?: number },
  stdout: NodeJS.WritableStream,
  stderr: NodeJS.WritableStream,
): Promise<number> {
  let records = 0;
  let rejects = 0;
  let failed = 0;
  const limit = opts.limit ?? Infinity;
  for (const file of files) {
    if (records >= limit) break;
    try {
      const input = { name: file, path: file, open: async () => createReadStream(file) };
      batches: for await (const batch of readFlowBatches(
        input,
        opts.format === undefined ? {} : { format: opts.format },
      )) {
        let text = '';
        for (const item of batch) {
          if (item.kind === 'reject') {
            rejects++;
            stderr.write(`${file}:${item.line}: ${item.reason}\n`);
            continue;
          }
          if (records >= limit) break;
          records++;
          text += `${recordToJson(item.record)}\n`;
        }
        if (text.length > 0 && !stdout.write(text)) await once(stdout, 'drain');
        if (records >= limit) break batches;
      }
    } catch (err) {
      failed++;
      const message = err instanceof FlowFormatError ? err.message : `${file}: ${(err as Error).message}`;
      stderr.write(`flowql parse: ${message}\n`);
    }
  }
  const counted = `${records} records, ${rejects} rejected lines`;
  stderr.write(
    `flowql parse: ${counted} from ${files.length} file${files.length === 1 ? '' : 's'}${failed > 0 ? `; ${failed} not read` : ''}\n`,
  );
  return failed > 0 ? 1 : 0;
}
