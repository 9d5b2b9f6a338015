import { describe, expect, it } from 'vitest';
import {
  blankRecord,
  compileRenderer,
  FORMAT_FIELDS,
  type FlowRecord,
  type FormatName,
} from '../../../src/generator/flow-log-formats.ts';
import { decimalDigits, LINE_HEADROOM, LineBuffer } from '../../../src/generator/line-buffer.ts';
import { compileLineEncoder } from '../../../src/generator/line-encoder.ts';

const text = (out: LineBuffer): string => Buffer.from(out.bytes()).toString('latin1');

// An egress TCP record as a v5 flow log writes it, and a NODATA record (every packet field `-`).
const egress: FlowRecord = {
  ...blankRecord(),
  version: 5,
  'account-id': '012345678901',
  'interface-id': 'eni-0a1b2c3d4e5f60718',
  srcaddr: '10.10.1.23',
  dstaddr: '10.10.3.45',
  srcport: 44321,
  dstport: 5432,
  protocol: 6,
  packets: 12,
  bytes: 4321,
  start: 1725494400,
  end: 1725494459,
  action: 'ACCEPT',
  'log-status': 'OK',
  'vpc-id': 'vpc-0a1b2c3d4e5f60718',
  'subnet-id': 'subnet-0a1b2c3d4e5f60718',
  'instance-id': 'i-0a1b2c3d4e5f60718',
  'tcp-flags': 0,
  type: 'IPv4',
  'pkt-srcaddr': '10.10.1.23',
  'pkt-dstaddr': '10.10.3.45',
  region: 'eu-west-1',
  'az-id': 'euw1-az1',
  'pkt-dst-aws-service': 'S3',
  'flow-direction': 'egress',
  'traffic-path': 7,
};
const nodata: FlowRecord = {
  ...blankRecord(),
  'account-id': 'unknown',
  'interface-id': 'eni-1',
  start: 1725494400,
  end: 1725494459,
  'log-status': 'NODATA',
};

describe('compileLineEncoder', () => {
  it('writes the v2 default line of an egress record, then a NODATA line, LF-terminated', () => {
    const out = new LineBuffer(new Uint8Array(16));
    const { encode } = compileLineEncoder(FORMAT_FIELDS['v2-default']);
    encode({ ...egress, version: 2 }, out, null);
    encode(nodata, out, null);
    expect(text(out)).toBe(
      '2 012345678901 eni-0a1b2c3d4e5f60718 10.10.1.23 10.10.3.45 44321 5432 6 12 4321 1725494400 1725494459 ACCEPT OK\n' +
        '2 unknown eni-1 - - - - - - - 1725494400 1725494459 - NODATA\n',
    );
  });

  it('puts the fields of the alphabetical v3 format in its order', () => {
    const out = new LineBuffer(new Uint8Array(LINE_HEADROOM));
    compileLineEncoder(FORMAT_FIELDS['v3-alphabetical']).encode({ ...egress, version: 3 }, out, null);
    // account-id action bytes dstaddr dstport end instance-id interface-id log-status packets pkt-dstaddr pkt-srcaddr
    // protocol srcaddr srcport start subnet-id tcp-flags type version vpc-id
    expect(text(out)).toBe(
      '012345678901 ACCEPT 4321 10.10.3.45 5432 1725494459 i-0a1b2c3d4e5f60718 eni-0a1b2c3d4e5f60718 OK 12 ' +
        '10.10.3.45 10.10.1.23 6 10.10.1.23 44321 1725494400 subnet-0a1b2c3d4e5f60718 0 IPv4 3 vpc-0a1b2c3d4e5f60718\n',
    );
  });

  it('writes exactly the bytes of the string renderer for every format', () => {
    for (const name of Object.keys(FORMAT_FIELDS) as FormatName[]) {
      const fields = FORMAT_FIELDS[name];
      const out = new LineBuffer(new Uint8Array(8));
      const { encode } = compileLineEncoder(fields);
      const render = compileRenderer(fields);
      for (const r of [egress, nodata]) encode(r, out, null);
      expect(text(out), name).toBe(`${render(egress)}\n${render(nodata)}\n`);
    }
  });
});

describe('compileLineEncoder with an interface prepared', () => {
  const iface = {
    version: 5,
    recordAccountId: '012345678901',
    interfaceId: 'eni-0a1b2c3d4e5f60718',
    vpcId: 'vpc-0a1b2c3d4e5f60718',
    subnetId: 'subnet-0a1b2c3d4e5f60718',
    instanceId: 'i-0a1b2c3d4e5f60718',
    region: 'eu-west-1',
    azId: 'euw1-az1',
  };

  it('groups adjacent per-interface fields into runs: 3 in v5, 1 in v2, 4 in alphabetical v3', () => {
    const runs = (name: FormatName): string[] =>
      compileLineEncoder(FORMAT_FIELDS[name])
        .prepare(iface)
        .bytes.map((b) => Buffer.from(b).toString('latin1'));
    expect(runs('v5-full')).toEqual([
      '5 012345678901 eni-0a1b2c3d4e5f60718',
      'vpc-0a1b2c3d4e5f60718 subnet-0a1b2c3d4e5f60718 i-0a1b2c3d4e5f60718',
      'eu-west-1 euw1-az1',
    ]);
    expect(runs('v2-default')).toEqual(['5 012345678901 eni-0a1b2c3d4e5f60718']);
    expect(runs('v3-alphabetical')).toEqual([
      '012345678901',
      'i-0a1b2c3d4e5f60718 eni-0a1b2c3d4e5f60718',
      'subnet-0a1b2c3d4e5f60718',
      '5 vpc-0a1b2c3d4e5f60718',
    ]);
  });

  it('copies the runs and renders the rest, with the same bytes as without them', () => {
    for (const name of Object.keys(FORMAT_FIELDS) as FormatName[]) {
      const encoder = compileLineEncoder(FORMAT_FIELDS[name]);
      const [plain, fast] = [new LineBuffer(new Uint8Array(8)), new LineBuffer(new Uint8Array(8))];
      encoder.encode(egress, plain, null);
      encoder.encode(egress, fast, encoder.prepare(iface));
      expect(text(fast), name).toBe(text(plain));
      expect(text(fast), name).toBe(`${compileRenderer(FORMAT_FIELDS[name])(egress)}\n`);
    }
  });

  it('renders a run field by field when the record differs from the interface (unknown account, other AZ)', () => {
    const out = new LineBuffer(new Uint8Array(8));
    const encoder = compileLineEncoder(FORMAT_FIELDS['v5-full']);
    encoder.encode({ ...egress, 'account-id': 'unknown', 'az-id': 'euw1-az3' }, out, encoder.prepare(iface));
    expect(text(out)).toBe(
      '5 unknown eni-0a1b2c3d4e5f60718 10.10.1.23 10.10.3.45 44321 5432 6 12 4321 1725494400 1725494459 ACCEPT OK ' +
        'vpc-0a1b2c3d4e5f60718 subnet-0a1b2c3d4e5f60718 i-0a1b2c3d4e5f60718 0 IPv4 10.10.1.23 10.10.3.45 ' +
        'eu-west-1 euw1-az3 - - - S3 egress 7\n',
    );
  });
});

describe('LineBuffer', () => {
  it('counts decimal digits at every power-of-ten boundary up to 2^31 - 1', () => {
    const values = [0, 9, 10, 99, 100, 9_999, 10_000, 99_999, 100_000, 999_999, 1_000_000, 99_999_999, 100_000_000];
    expect(values.map(decimalDigits)).toEqual([1, 1, 2, 2, 3, 4, 5, 5, 6, 6, 7, 8, 9]);
    expect([999_999_999, 1_000_000_000, 2_147_483_647].map(decimalDigits)).toEqual([9, 10, 10]);
  });

  it('writes integers as String() does, including 0, powers of ten and 2^53 - 1', () => {
    const values = [0, 7, 9, 10, 99, 100, 65535, 1725494400, 4294967296, Number.MAX_SAFE_INTEGER];
    const out = new LineBuffer(new Uint8Array(LINE_HEADROOM));
    for (const v of values) {
      out.uint(v);
      out.byte(32);
    }
    expect(text(out)).toBe('0 7 9 10 99 100 65535 1725494400 4294967296 9007199254740991 ');
  });

  it('falls back to String() for values that are not non-negative safe integers', () => {
    const out = new LineBuffer(new Uint8Array(LINE_HEADROOM));
    for (const v of [-1, 1.5, 2 ** 60]) {
      out.uint(v);
      out.byte(32);
    }
    expect(text(out)).toBe('-1 1.5 1152921504606847000 ');
  });

  it('switches from 32-bit to general digits at 2^31 without a seam', () => {
    const out = new LineBuffer(new Uint8Array(LINE_HEADROOM));
    for (const v of [999_999_999, 1_000_000_000, 2_147_483_647, 2_147_483_648, 9_999_999_999, 10_000_000_000]) {
      out.uint(v);
      out.byte(32);
    }
    expect(text(out)).toBe('999999999 1000000000 2147483647 2147483648 9999999999 10000000000 ');
  });

  it('grows by copying what was written, keeping LINE_HEADROOM free after reserve()', () => {
    const out = new LineBuffer(new Uint8Array(4));
    out.reserve();
    out.ascii('abc');
    expect(out.buf.length).toBe(LINE_HEADROOM);
    out.length = LINE_HEADROOM - 10;
    out.reserve();
    expect(out.buf.length).toBe(2 * LINE_HEADROOM);
    expect(text(out).slice(0, 3)).toBe('abc');
    expect(out.bytes()).toHaveLength(LINE_HEADROOM - 10);
  });
});
