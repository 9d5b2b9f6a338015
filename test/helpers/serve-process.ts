/**
 * `flowql serve` as a real child process (bin/flowql.js), started with a bare environment and awaited until it prints
 * its address line on stderr (`flowql: GraphiQL at <url>` or `flowql: GraphQL API at <url>`), within 60 s.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const BIN = join(import.meta.dirname, '../../bin/flowql.js');

/** A started server: the child, the address it printed (the /graphql URL), and what it wrote so far. */
export interface ServeProcess {
  readonly child: ChildProcess;
  readonly graphqlUrl: string;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** SIGTERM, then wait for the exit. */
  stop(): Promise<void>;
}

/** Starts `flowql serve <args>` and resolves once it prints its address; `bin` and `env` default to this tree's. */
export async function startServeProcess(
  args: readonly string[],
  o: { readonly bin?: string; readonly env?: NodeJS.ProcessEnv } = {},
): Promise<ServeProcess> {
  const child = spawn(process.execPath, [o.bin ?? BIN, 'serve', ...args], {
    env: { PATH: process.env.PATH, ...o.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((done) => child.once('exit', done));
    child.kill('SIGTERM');
    await exited;
  };
  try {
    const graphqlUrl = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no address line within 60 s: ${stderr}`)), 60_000);
      child.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
        const m = /^flowql: (?:GraphiQL|GraphQL API) at (http:\/\/127\.0\.0\.1:\d+\/graphql)$/m.exec(stderr);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
    });
    return { child, graphqlUrl, stdout: () => stdout, stderr: () => stderr, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
