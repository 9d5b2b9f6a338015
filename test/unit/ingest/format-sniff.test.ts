import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { NotFlowLogError, sniffInput, textLayoutVerdict } from '../../../src/ingest/format-sniff.ts';

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

describe('sniffInput: one damaged line is text', () => {
  const line = '2 123456789010 eni-1 10.0.0.1 10.0.0.2 443 50000 6 1 40 1700000000 1700000060 ACCEPT OK\n';
  it('calls text with a NUL or an invalid byte on one line text (the line is a reject later), and a gzip that will not inflate corrupt', async () => {
    const nul = Buffer.from(`${header}${line.repeat(3)}2 1 eni-\0 x\n${line.repeat(20)}`);
    expect(await sniffInput(nul)).toBe('text');
    const ff = Buffer.concat([Buffer.from(header + line), Buffer.from([0xff, 0x0a]), Buffer.from(line.repeat(20))]);
    expect(await sniffInput(ff)).toBe('text');
    expect(await sniffInput(gzipSync(ff))).toBe('gzip-text');
    expect(await sniffInput(Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]))).toBe(
      'corrupt-gzip',
    );
  });
});

describe('textLayoutVerdict', () => {
  const rec = '2 123456789010 eni-1 10.0.0.1 10.0.0.2 443 50000 6 1 40 1700000000 1700000060 ACCEPT OK';
  it('takes a header, or records of the default format (even after a damaged first line)', () => {
    expect(textLayoutVerdict(header, true)).toMatchObject({
      header: true,
      layout: { names: expect.arrayContaining(['log-status']) },
    });
    expect(textLayoutVerdict(`${rec}\n`, true).header).toBe(false);
    expect(textLayoutVerdict(`2 x eni-?\n${rec}\n`, true).header).toBe(false);
  });
  it('refuses what is not a flow log, saying why', () => {
    expect(() => textLayoutVerdict('', true)).toThrow(new NotFlowLogError('empty object (no header, no records)'));
    expect(() => textLayoutVerdict('\n \n', true)).toThrow(NotFlowLogError);
    expect(() => textLayoutVerdict('# Flow logs\nSee the wiki.\n', true)).toThrow(
      "first line '# Flow logs' is neither a header of field names nor a record of the default format, and neither is any of the next 1 lines",
    );
    // A head cut inside its only line: no line break in the first characters.
    expect(() => textLayoutVerdict('x'.repeat(100), false)).toThrow('no line break in the first 100 characters');
  });
});
