// The object scan's decompressed copy (src/ingest/text-object-scan.ts): kept whole for a plain gzip object, never
// left behind for an object that turns out not to be plain (even past the first chunks) or truncated, never made for
// plain text.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { scanTextObject } from '../../../src/ingest/text-object-scan.ts';

const HEADER =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
const rec = (i: number) =>
  `2 111122223333 eni-0a1b2c3d 10.1.0.1 10.1.0.2 443 ${50000 + (i % 10000)} 6 1 ${i} 1700000000 1700000060 ACCEPT OK`;
// Well past the scan's 256 KiB chunks, so a byte that makes the object not plain comes after the copy has started.
const MANY = Array.from({ length: 20_000 }, (_, i) => rec(i));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flowql-scan-'));
});

async function object(name: string, text: string, gzip: boolean): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, gzip ? gzipSync(text) : text);
  return path;
}

describe('the decompressed copy of a scan', () => {
  it('is the whole inflated object for a plain gzip object', async () => {
    const text = `${HEADER}\n${MANY.join('\n')}\n`;
    const copy = join(dir, 'plain.copy');
    const scan = await scanTextObject(await object('plain.log.gz', text, true), true, copy);
    expect([scan.plain, scan.lines, scan.decoded]).toEqual([true, MANY.length + 1, copy]);
    expect(await readFile(copy, 'utf8')).toBe(text);
  });

  it('is removed when a tab far into the object makes it not plain', async () => {
    const text = `${HEADER}\n${MANY.join('\n')}\n${rec(1).replace(' ', '\t')}\n`;
    const copy = join(dir, 'tab.copy');
    const scan = await scanTextObject(await object('tab.log.gz', text, true), true, copy);
    expect([scan.plain, scan.decoded]).toEqual([false, null]);
    expect(existsSync(copy)).toBe(false);
  });

  it('is removed when the object turns out truncated, and the scan fails with the gzip error', async () => {
    const full = gzipSync(`${HEADER}\n${MANY.join('\n')}\n`);
    // Cut after the header (12 bytes: nothing inflates) and in the middle (some bytes were copied before the error).
    for (const [name, bytes] of [
      ['header.log.gz', 12],
      ['half.log.gz', Math.floor(full.length / 2)],
    ] as const) {
      const path = join(dir, name);
      await writeFile(path, full.subarray(0, bytes));
      const copy = join(dir, `${name}.copy`);
      await expect(scanTextObject(path, true, copy)).rejects.toThrow(/unexpected end of file/);
      expect(existsSync(copy)).toBe(false);
    }
  });

  it('is not made for an uncompressed object, which DuckDB reads as it is', async () => {
    const copy = join(dir, 'text.copy');
    const scan = await scanTextObject(await object('text.log', `${HEADER}\n${rec(1)}\n`, false), false, copy);
    expect([scan.plain, scan.lines, scan.decoded]).toEqual([true, 2, null]);
    expect(existsSync(copy)).toBe(false);
  });
});
