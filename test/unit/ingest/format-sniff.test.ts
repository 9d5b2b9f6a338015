import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { sniffInput } from '../../../src/ingest/format-sniff.ts';

const header =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n';

describe('sniffInput', () => {
  it('tells gzip text, plain text, Parquet and CloudWatch JSON apart by content', async () => {
    expect(await sniffInput(gzipSync(header))).toBe('gzip-text');
    expect(await sniffInput(Buffer.from(header))).toBe('text');
    expect(await sniffInput(Buffer.from('PAR1\x15\x04\x15'))).toBe('parquet');
    expect(await sniffInput(gzipSync('  {"messageType":"DATA_MESSAGE"}'))).toBe('cloudwatch');
    expect(await sniffInput(Buffer.from('{"messageType":"DATA_MESSAGE"}'))).toBe('cloudwatch');
  });

  it('sniffs a gzip prefix (the first 4 KiB of a large object)', async () => {
    const big = gzipSync(header.repeat(20000));
    expect(await sniffInput(big.subarray(0, 4096))).toBe('gzip-text');
  });

  it('calls binary that is neither unknown, but accepts UTF-8 cut mid-character', async () => {
    expect(await sniffInput(Buffer.from([0x00, 0xff, 0xfe, 0x41]))).toBe('unknown');
    expect(await sniffInput(Buffer.from([0x1f, 0x8b, 0x00, 0x00]))).toBe('unknown');
    expect(await sniffInput(gzipSync(Buffer.from([0, 1, 2, 3, 0xff])))).toBe('unknown');
    const euro = Buffer.from('a b €');
    expect(await sniffInput(euro.subarray(0, euro.length - 1))).toBe('text');
  });
});
