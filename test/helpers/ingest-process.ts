/**
 * `flowql ingest` as a real child process (bin/flowql.js), for tests that kill it: with `pauseAt`, the run is started
 * with the internal `--debug-pause-after-stage` flag and killed with SIGKILL as soon as it reports that it reached the
 * stage of its first commit (src/ingest/ingest-commit.ts COMMIT_STAGES), as a crash of the machine there would.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const BIN = join(import.meta.dirname, '../../bin/flowql.js');

/** How a child ingest ended: its exit code (null when killed), whether the test killed it, and its stderr. */
export interface IngestProcessResult {
  readonly code: number | null;
  readonly killed: boolean;
  readonly stderr: string;
}

/** Runs `flowql ingest <args>`; with `pauseAt`, kills it -9 when it pauses after that stage. */
export function runIngestProcess(args: readonly string[], pauseAt?: string): Promise<IngestProcessResult> {
  return new Promise((resolve, reject) => {
    const extra = pauseAt ? ['--debug-pause-after-stage', pauseAt] : [];
    const child = spawn(process.execPath, [BIN, 'ingest', ...args, ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let killed = false;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (pauseAt && !killed && stderr.includes(`debug pause after ${pauseAt}`)) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, killed, stderr }));
  });
}
