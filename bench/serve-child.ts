/**
 * A `flowql serve` child process on a loopback port for benchmarks (bench:load, bench:scale): started with the given
 * options (from the CLI bundle, built first when stale: bench/cli-bundle.ts), resolved once it logs that it listens;
 * its CPU time and peak RSS read from /proc (Linux), so a benchmark can charge each request the server's CPU rather
 * than its own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { ensureCliBundle } from './cli-bundle.ts';

/** A running server. */
export interface ServeChild {
  readonly child: ChildProcess;
  /** http://127.0.0.1:<port> (no path). */
  readonly url: string;
  /** The server's CPU time so far (user + system, every thread), ms; 10 ms resolution (clock ticks). */
  readonly cpuMs: () => number;
  /** The server's peak resident set size so far, bytes. */
  readonly peakRss: () => number;
  /** SIGTERM, then wait for the exit. */
  readonly stop: () => Promise<void>;
}

const CLOCK_TICKS_PER_SECOND = 100;

/**
 * Starts `flowql serve --data <warehouse> --port 0 --no-graphiql` plus `extraArgs`; `onLog` sees each of its log
 * lines (JSON objects: a statement's `query` line carries `statement`, `ms` and `queuedMs`).
 */
export async function startServeChild(
  warehouse: string,
  extraArgs: readonly string[] = [],
  onLog?: (entry: Readonly<Record<string, unknown>>) => void,
): Promise<ServeChild> {
  ensureCliBundle();
  const child = spawn(
    process.execPath,
    [
      'bin/flowql.js',
      'serve',
      '--data',
      warehouse,
      '--port',
      '0',
      '--no-graphiql',
      '--log-level',
      'info',
      ...extraArgs,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, FLOWQL_LOG_LEVEL: 'info' } },
  );
  const url = await new Promise<string>((ok, fail) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as { msg?: string; url?: string };
      if (entry.msg === 'flowql API listening' && entry.url) ok(entry.url.replace(/\/graphql$/, ''));
      onLog?.(entry);
    });
    child.once('exit', (code) => fail(new Error(`flowql serve exited with ${code}`)));
  });
  const pid = child.pid!;
  return {
    child,
    url,
    cpuMs: () => {
      // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
    },
    peakRss: () => {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      return m ? Number(m[1]) * 1024 : NaN;
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
