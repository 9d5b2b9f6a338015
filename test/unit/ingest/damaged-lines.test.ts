import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findDamagedLines } from '../../../src/ingest/damaged-lines.ts';

const NAMES = ['version', 'account-id', 'interface-id'];
let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flowql-damaged-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('findDamagedLines', () => {
  it('numbers damaged lines across chunks and names byte and field', async () => {
    const path = join(dir, 'mixed.log.gz');
    const good = '2 123456789012 eni-1';
    const lines = [good, `2 123456789012 eni-\u0000x`, good, Buffer.from([0x32, 0x20, 0xff]).toString('latin1'), good];
    const bytes = Buffer.concat(
      lines.map((l, i) => Buffer.concat([Buffer.from(l, i === 3 ? 'latin1' : 'utf8'), Buffer.from('\n')])),
    );
    await writeFile(path, gzipSync(bytes));
    const found = await findDamagedLines(path, true, NAMES);
    expect(found.map((r) => [r.line, r.field, r.reason])).toEqual([
      [2, 'interface-id', 'interface-id: a NUL byte (byte 20 of the line)'],
      [4, 'account-id', 'account-id: byte 0xff is not valid UTF-8 (byte 3 of the line)'],
    ]);
  });

  it('reads a 64 MB line without a newline in time linear in its bytes', async () => {
    const path = join(dir, 'long.log');
    const long = Buffer.alloc(64 * 2 ** 20, 0x61);
    long[long.length - 1] = 0; // the NUL at the very end: the whole line must be read
    await writeFile(path, long);
    const found = await findDamagedLines(path, false, NAMES);
    expect(found.map((r) => [r.line, r.reason])).toEqual([
      [1, `version: a NUL byte (byte ${long.length} of the line)`],
    ]);
    expect(found[0]!.text.length).toBeLessThanOrEqual(1000);
  });

  it('keeps the text of the first rejects only, and counts them all', async () => {
    const path = join(dir, 'junk.log');
    await writeFile(path, Buffer.from('\u0000\n'.repeat(25_000), 'latin1'));
    const found = await findDamagedLines(path, false, NAMES, 100);
    expect(found).toHaveLength(25_000);
    expect(found[99]!.text).toBe('\\x00');
    expect(found[100]!.text).toBe('');
    expect(found[24_999]!.line).toBe(25_000);
  });
});
