/**
 * Benchmarks measure the CLI as installs run it: from the prebuilt bundle (bin/build-cli-bundle.js; `npm install`
 * builds it, but an edit to src/ since then makes bin/flowql.js run the sources through tsx, which costs ~0.2-0.3 CPU
 * seconds a start). Children that run `node bin/flowql.js` call this first: it builds the bundle once per benchmark
 * process when it does not match the sources, and prints which one runs.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

let checked = false;

/** Builds the CLI bundle unless one matches the sources (once per process). */
export function ensureCliBundle(): void {
  if (checked) return;
  checked = true;
  execFileSync(process.execPath, [join(import.meta.dirname, '../bin/build-cli-bundle.js'), '--if-stale'], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}
