/**
 * Commands that work on an existing warehouse (compact, derive, check) refuse a `--data` that is not one, through the
 * real CLI, and write nothing: a typo must not leave a `_flowql/` folder that `flowql serve` would then take for an
 * empty warehouse and answer zeros from.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = join(import.meta.dirname, '../..');
let root = '';

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'flowql-missing-'));
  await mkdir(join(root, 'empty'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe.each(['compact', 'derive', 'check'])('flowql %s on a path that is not a warehouse', (command) => {
  it('exits 1 naming the path and writes nothing (missing folder, empty folder)', async () => {
    const missing = join(root, `typo-${command}`);
    const run = spawnSync(process.execPath, ['bin/flowql.js', command, '--data', missing], {
      cwd: repo,
      encoding: 'utf8',
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`${missing} does not exist`);
    expect(run.stderr).toContain('nothing was written');
    expect(existsSync(missing)).toBe(false);

    const empty = spawnSync(process.execPath, ['bin/flowql.js', command, '--data', join(root, 'empty')], {
      cwd: repo,
      encoding: 'utf8',
    });
    expect(empty.status).toBe(1);
    expect(empty.stderr).toContain('is not a flowql warehouse (no _flowql/ folder)');
    expect(await readdir(join(root, 'empty'))).toEqual([]);
  });
});
