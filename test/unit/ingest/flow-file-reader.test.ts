import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { FlowFormatError } from '../../../src/ingest/line-parser.ts';
import { readFlowFile, type FlowItem } from '../../../src/ingest/flow-file-reader.ts';

const FIXTURES = join(import.meta.dirname, '../../fixtures');
const fixture = (p: string) => readFileSync(join(FIXTURES, p));

/** An input over in-memory bytes, delivered in small chunks so line and gzip boundaries fall mid-chunk. */
function bytesInput(name: string, bytes: Buffer, chunk = 97) {
  return {
    name,
    open: async () =>
      Readable.from(
        (function* () {
          for (let i = 0; i < bytes.length; i += chunk) yield bytes.subarray(i, i + chunk);
        })(),
      ),
  };
}

async function readAll(input: ReturnType<typeof bytesInput>, format?: string): Promise<FlowItem[]> {
  const items: FlowItem[] = [];
  for await (const item of readFlowFile(input, format === undefined ? {} : { format })) items.push(item);
  return items;
}

/** Reads until the error, returning the items before it and the error. */
async function readUntilError(input: ReturnType<typeof bytesInput>) {
  const items: FlowItem[] = [];
  try {
    for await (const item of readFlowFile(input)) items.push(item);
  } catch (err) {
    return { items, error: err as Error };
  }
  throw new Error(`expected an error after ${items.length} items`);
}

const records = (items: FlowItem[]) => items.flatMap((i) => (i.kind === 'record' ? [i] : []));
const rejects = (items: FlowItem[]) => items.flatMap((i) => (i.kind === 'reject' ? [i] : []));

describe('readFlowFile on AWS example files', () => {
  it('reads the default-format examples as plain text and as gzip, numbering data lines from 2', async () => {
    for (const bytes of [fixture('aws/default-format.log'), gzipSync(fixture('aws/default-format.log'))]) {
      const items = await readAll(bytesInput('default-format.log', bytes));
      expect(items.map((i) => [i.kind, i.line])).toEqual([2, 3, 4, 5, 6, 7, 8].map((l) => ['record', l]));
      const r = records(items).map((i) => i.record);
      expect(r.map((x) => x.log_status)).toEqual(['OK', 'OK', 'NODATA', 'SKIPDATA', 'OK', 'OK', 'OK']);
      expect(r.map((x) => x.action)).toEqual(['ACCEPT', 'REJECT', null, null, 'ACCEPT', 'REJECT', 'ACCEPT']);
      expect(r[6]).toMatchObject({
        srcaddr: '2001:db8:1234:a100:8d6e:3477:df66:f105',
        srcport: 34892,
        dstport: 22,
        bytes: 8855,
      });
    }
  });

  it('reads the TCP flag sequence example with its custom format', async () => {
    const r = records(await readAll(bytesInput('tcp.log', gzipSync(fixture('aws/tcp-flag-sequence.log')))));
    expect(r.map((i) => i.record.tcp_flags)).toEqual([2, 18, 2, 18, 1, 1, 3, 19]);
    expect(r.map((i) => `${i.record.srcport}>${i.record.dstport}`)).toEqual([
      '43416>5001',
      '5001>43416',
      '43418>5001',
      '5001>43418',
      '5001>43418',
      '43418>5001',
      '43638>5001',
      '5001>43638',
    ]);
    expect(r[5]!.record.bytes).toBe(23294588);
  });

  it('reads the NAT, transit gateway (VPC B) and v5 traffic-path examples', async () => {
    const nat = records(await readAll(bytesInput('nat.log', fixture('aws/nat-gateway.log'))));
    expect(nat.map((i) => i.record.instance_id)).toEqual([
      null,
      null,
      null,
      null,
      'i-01234567890123456',
      'i-01234567890123456',
    ]);
    expect(nat.map((i) => `${i.record.srcaddr}|${i.record.pkt_srcaddr}`)[3]).toBe('10.0.0.220|203.0.113.5');
    const tgw = records(await readAll(bytesInput('tgw.log', fixture('aws/transit-gateway-vpc-b.log'))));
    expect(tgw.map((i) => [i.record.interface_id, i.record.tcp_flags])).toEqual([
      ['eni-33333333333333333', 3],
      ['eni-33333333333333333', 19],
      ['eni-11111111111111111', 3],
      ['eni-22222222222222222', 19],
    ]);
    const v5 = records(await readAll(bytesInput('v5.log', fixture('aws/traffic-path-v5.log'))));
    expect(
      v5.map((i) => [
        i.record.flow_direction,
        i.record.traffic_path,
        i.record.pkt_src_aws_service,
        i.record.pkt_dst_aws_service,
      ]),
    ).toEqual([
      ['ingress', null, 'S3', null],
      ['egress', 8, null, 'S3'],
    ]);
    expect(v5[0]!.record).toMatchObject({
      version: 5,
      region: 'ap-southeast-2',
      az_id: 'apse2-az3',
      sublocation_type: null,
      bytes: 15044,
      packets: 14,
    });
  });
});

describe('readFlowFile on broken and awkward files', () => {
  it('rejects each malformed line with its reason and line number and keeps the good lines around it', async () => {
    const items = await readAll(bytesInput('malformed-lines.log', gzipSync(fixture('broken/malformed-lines.log'))));
    expect(records(items).map((i) => i.line)).toEqual([2, 4, 11, 14]);
    expect(rejects(items).map((i) => `${i.line}: ${i.reason}`)).toEqual([
      '3: expected 14 fields, found 13',
      "5: srcport: expected an integer 0-65535, found 'abc'",
      "6: protocol: expected an integer 0-255, found '300'",
      "7: bytes: expected a non-negative integer, found '-5'",
      "8: packets: '99999999999999999999' is out of range (max 9007199254740991)",
      "9: start: expected Unix seconds (a non-negative integer), found 'yesterday'",
      "10: transit gateway record (resource-type 'TransitGateway') in a VPC flow log; it does not follow this file's header",
      '12: expected 14 fields, found 15',
      "13: dstport: expected an integer 0-65535, found '70000'",
    ]);
    expect(rejects(items).map((i) => i.field)).toEqual([
      undefined,
      'srcport',
      'protocol',
      'bytes',
      'packets',
      'start',
      undefined,
      undefined,
      'dstport',
    ]);
    expect(rejects(items)[0]!.text).toBe(
      '2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT',
    );
  });

  it('tolerates CRLF, tabs, double spaces, blank lines, a repeated header and ms timestamps', async () => {
    const items = await readAll(bytesInput('messy.log', fixture('broken/messy-whitespace.log'), 13));
    expect(items.map((i) => [i.kind, i.line])).toEqual([
      ['record', 2],
      ['record', 3],
      ['record', 7],
      ['record', 8],
    ]);
    const r = records(items).map((i) => i.record);
    expect(r.map((x) => x.srcaddr)).toEqual(['172.31.16.139', '172.31.9.69', '203.0.113.12', '172.31.16.139']);
    expect([r[2]!.start_time, r[2]!.end_time, r[0]!.log_status, r[3]!.log_status]).toEqual([
      1432917027,
      1432917142,
      'OK',
      'OK',
    ]);
  });

  it('follows an alphabetical header and keeps an unknown field in extra', async () => {
    const r = records(await readAll(bytesInput('alpha.log', fixture('broken/alphabetical-future-field.log')))).map(
      (i) => i.record,
    );
    expect(r[0]).toMatchObject({
      account_id: '123456789012',
      bytes: 471,
      dstport: 80,
      srcport: 34210,
      traffic_path: 8,
      tcp_flags: 3,
      version: 12,
      extra: { 'quantum-path': 'q7' },
    });
    expect(r[1]).toMatchObject({ flow_direction: 'ingress', traffic_path: null, pkt_src_aws_service: 'S3' });
    expect(r[1]!.extra).toBeUndefined();
  });

  it('switches layout at a different header mid-stream (concatenated objects)', async () => {
    const text = `${fixture('aws/default-format.log').toString().split('\n').slice(0, 2).join('\n')}\n${fixture('aws/nat-gateway.log').toString()}`;
    const items = await readAll(bytesInput('concat.log', gzipSync(Buffer.from(text))));
    expect(items.map((i) => [i.kind, i.line])).toEqual([2, 4, 5, 6, 7, 8, 9].map((l) => ['record', l]));
    expect(records(items)[1]!.record.pkt_dstaddr).toBe('203.0.113.5');
  });

  it('needs a format for header-less text, and uses it when given', async () => {
    const lines = fixture('aws/default-format.log').toString().split('\n').slice(1).join('\n');
    const err = (await readUntilError(bytesInput('headerless.log', Buffer.from(lines)))).error;
    expect(err).toBeInstanceOf(FlowFormatError);
    expect(err.message).toMatch(/^headerless\.log: not a flow log: line 1 is not a header of field names/);
    const items = await readAll(
      bytesInput('headerless.log', Buffer.from(lines)),
      '${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}',
    );
    expect(items.map((i) => [i.kind, i.line])).toEqual([1, 2, 3, 4, 5, 6, 7].map((l) => ['record', l]));
  });

  it('names the file when it is not a flow log: random bytes, other JSON, a bad --format', async () => {
    const bin = await readUntilError(bytesInput('random-bytes.bin', fixture('broken/random-bytes.bin')));
    expect([bin.items.length, bin.error.message]).toEqual([
      0,
      'random-bytes.bin: not a flow log: binary content that is neither gzip text nor Parquet',
    ]);
    const json = await readUntilError(bytesInput('other.json', fixture('broken/other.json')));
    expect(json.error.message).toBe(
      'other.json: not a flow log: JSON with no messageType; expected a CloudWatch Logs payload (DATA_MESSAGE or CONTROL_MESSAGE with logEvents)',
    );
    await expect(readAll(bytesInput('x.log', fixture('aws/default-format.log')), '${colour} ${size}')).rejects.toThrow(
      "x.log: --format: not a flow-log header or format: no known field name in '${colour} ${size}'",
    );
  });

  it('keeps the complete lines of a truncated gzip, then reports the truncation', async () => {
    const gz = gzipSync(fixture('broken/malformed-lines.log'));
    const { items, error } = await readUntilError(bytesInput('cut.log.gz', gz.subarray(0, gz.length - 60), 50));
    expect(error).toBeInstanceOf(FlowFormatError);
    // The 431-byte gzip cut by 60 bytes still holds lines 1-9 whole; line 10 is cut mid-way and dropped.
    const last = 9;
    expect(items.map((i) => i.line)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    expect(error.message).toBe(
      `cut.log.gz: truncated gzip stream (unexpected end of file) after line ${last}; the lines before it were kept and the incomplete last line dropped`,
    );
  });

  it('reads a local file by path the same way', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowql-reader-'));
    const path = join(dir, 'f.log.gz');
    writeFileSync(path, gzipSync(fixture('aws/default-format.log')));
    const { createReadStream } = await import('node:fs');
    const items: FlowItem[] = [];
    for await (const i of readFlowFile({ name: path, path, open: async () => createReadStream(path) })) items.push(i);
    expect(records(items)).toHaveLength(7);
  });
});

describe('readFlowFile: a damaged line', () => {
  const HEAD =
    'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n';
  const line = (eni: string) =>
    `2 123456789010 ${eni} 10.0.0.1 10.0.0.2 443 50000 6 1 40 1700000000 1700000060 ACCEPT OK\n`;

  it('rejects a line with a NUL or an invalid UTF-8 byte in the first 4 KB, names its field, and reads the other 20', async () => {
    const good = Array.from({ length: 20 }, (_, i) => Buffer.from(line(`eni-${i}`)));
    const nul = Buffer.from(line('eni-x\0'));
    const ff = Buffer.concat([
      Buffer.from('2 123456789010 eni-'),
      Buffer.from([0xff]),
      Buffer.from(line('').slice(15)),
    ]);
    for (const [damaged, field, what, column] of [
      [nul, 'interface-id', 'a NUL byte', 21],
      [ff, 'interface-id', 'bytes that are not valid UTF-8', 20],
    ] as const) {
      const bytes = Buffer.concat([Buffer.from(HEAD), ...good.slice(0, 3), damaged, ...good.slice(3)]);
      for (const input of [bytesInput('d.log', bytes), bytesInput('d.log.gz', gzipSync(bytes))]) {
        const items = await readAll(input);
        expect(items.filter((i) => i.kind === 'record')).toHaveLength(20);
        const rejects = items.filter((i) => i.kind === 'reject');
        expect(rejects).toEqual([
          expect.objectContaining({ line: 5, field, reason: `${field}: ${what} (character ${column} of the line)` }),
        ]);
      }
    }
  });
});
