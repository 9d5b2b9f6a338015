/**
 * Runs `node <args>` as a child process under GNU time, for benchmarks that measure a whole command (an ingest, a
 * compaction): wall seconds, CPU seconds (user + system, DuckDB's threads included; wall time is noisy on a shared
 * machine, CPU time less so) and peak RSS, plus the child's stdout.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCliBundle } from './cli-bundle.ts';

/** What one child run cost. */
export interface Measured {
  readonly wall: number;
  readonly cpu: number;
  /** Peak resident set size in bytes. */
  readonly peak: number;
  readonly stdout: string;
}

const TIME = '/usr/bin/time';

/**
 * Runs `node <nodeArgs>` under /usr/bin/time; an exit code outside `okExitCodes` throws (naming the command).
 * stderr is inherited (progress lines show), stdout is collected. A run of bin/flowql.js runs the CLI bundle, built
 * first when it does not match the sources (bench/cli-bundle.ts).
 */
export async function measureNode(
  nodeArgs: readonly string[],
  okExitCodes: readonly number[] = [0],
): Promise<Measured> {
  if (!existsSync(TIME))
    throw new Error(`${TIME} is needed to read the child's CPU time and peak RSS (apt-get install time)`);
  if (nodeArgs.some((a) => a.endsWith('bin/flowql.js'))) ensureCliBundle();
  const report = join(tmpdir(), `flowql-bench-time-${process.pid}-${Date.now()}`);
  const child = spawn(TIME, ['-f', '%e %U %S %M', '-o', report, process.execPath, ...nodeArgs], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const code = await new Promise<number | null>((done) => child.on('exit', done));
  const lines = (await readFile(report, 'utf8')).trim().split('\n');
  await rm(report, { force: true });
  if (code === null || !okExitCodes.includes(code))
    throw new Error(`node ${nodeArgs.slice(0, 3).join(' ')} ... exited ${code}: ${lines.join(' ')}`);
  const [wall, user, sys, maxKb] = lines.at(-1)!.split(' ').map(Number);
  return { wall: wall!, cpu: user! + sys!, peak: maxKb! * 1024, stdout };
}
