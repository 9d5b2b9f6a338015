import { describe, expect, it } from 'vitest';
import { DEFAULT_FORMAT_STRING } from '../../../src/domain/fields.ts';
import {
  checkFieldNumber,
  compileLayout,
  FlowFormatError,
  isHeaderLine,
  parseFieldText,
  parseLine,
  type LineResult,
} from '../../../src/ingest/line-parser.ts';
import { fieldByName } from '../../../src/domain/fields.ts';

const HEADER =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
const v2 = compileLayout(HEADER);

function record(r: LineResult) {
  if (!r.ok) throw new Error(`expected a record, got reject: ${r.reason}`);
  return r.record;
}
function reject(r: LineResult) {
  if (r.ok) throw new Error(`expected a reject, got ${JSON.stringify(r.record)}`);
  return r;
}

describe('compileLayout', () => {
  it('reads an S3 header line and a ${} format string to the same layout', () => {
    const fromFormat = compileLayout(DEFAULT_FORMAT_STRING);
    expect(fromFormat.names).toEqual(v2.names);
    expect(v2.columns).toEqual([
      'version',
      'account_id',
      'interface_id',
      'srcaddr',
      'dstaddr',
      'srcport',
      'dstport',
      'protocol',
      'packets',
      'bytes',
      'start_time',
      'end_time',
      'action',
      'log_status',
    ]);
    expect(v2.unknown).toEqual([]);
    expect(v2.transitGateway).toBe(false);
  });

  it("accepts Terraform's escaped $${field} tokens", () => {
    expect(compileLayout('$${version} $${srcaddr}').columns).toEqual(['version', 'srcaddr']);
  });

  it('keeps unknown (future) names as extra and still needs one known field', () => {
    const layout = compileLayout('version flux-capacitor srcaddr');
    expect(layout.unknown).toEqual(['flux-capacitor']);
    expect(() => compileLayout('name age city')).toThrow(FlowFormatError);
    expect(() => compileLayout('name age city')).toThrow(
      "not a flow-log header or format: no known field name in 'name age city'",
    );
  });

  it('rejects a field listed twice', () => {
    expect(() => compileLayout('version srcaddr srcaddr')).toThrow(
      "field 'srcaddr' appears twice in the header or format",
    );
  });

  it('recognises its own header repeated, with CR or extra spaces, and nothing else', () => {
    expect(isHeaderLine(v2, HEADER)).toBe(true);
    expect(isHeaderLine(v2, `  ${HEADER.replaceAll(' ', '  ')}\r`)).toBe(true);
    expect(isHeaderLine(v2, HEADER.replace('log-status', 'action'))).toBe(false);
    expect(isHeaderLine(v2, '2 123456789010 eni-1 - - - - - - - 1 2 - NODATA')).toBe(false);
  });
});

describe('parseLine on AWS examples', () => {
  it('parses the accepted SSH record of the default format', () => {
    const r = record(
      parseLine(
        v2,
        '2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK',
      ),
    );
    expect(r).toEqual({
      version: 2,
      account_id: '123456789010',
      interface_id: 'eni-1235b8ca123456789',
      srcaddr: '172.31.16.139',
      dstaddr: '172.31.16.21',
      srcport: 20641,
      dstport: 22,
      protocol: 6,
      packets: 20,
      bytes: 4249,
      start_time: 1418530010,
      end_time: 1418530070,
      action: 'ACCEPT',
      log_status: 'OK',
    });
  });

  it('makes every `-` of a NODATA record null, numeric fields included', () => {
    const r = record(
      parseLine(v2, '2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA'),
    );
    expect(r).toEqual({
      version: 2,
      account_id: '123456789010',
      interface_id: 'eni-1235b8ca123456789',
      srcaddr: null,
      dstaddr: null,
      srcport: null,
      dstport: null,
      protocol: null,
      packets: null,
      bytes: null,
      start_time: 1431280876,
      end_time: 1431280934,
      action: null,
      log_status: 'NODATA',
    });
  });

  it('reads ICMP as ports 0 0 and protocol 1', () => {
    const r = record(
      parseLine(
        v2,
        '2 123456789010 eni-1235b8ca123456789 172.31.16.139 203.0.113.12 0 0 1 4 336 1432917094 1432917142 REJECT OK',
      ),
    );
    expect([r.srcport, r.dstport, r.protocol, r.action]).toEqual([0, 0, 1, 'REJECT']);
  });

  it("tolerates AWS's own double space in the TCP flag sequence example", () => {
    const layout = compileLayout(
      'version vpc-id subnet-id instance-id interface-id account-id type srcaddr dstaddr srcport dstport pkt-srcaddr pkt-dstaddr protocol bytes packets start end action tcp-flags log-status',
    );
    const r = record(
      parseLine(
        layout,
        '3 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-01234567890123456 eni-1235b8ca123456789 123456789010 IPv4 10.0.0.62 52.213.180.42 5001 43638  10.0.0.62 52.213.180.42 6 967 14 1566933133 1566933193 ACCEPT 19 OK',
      ),
    );
    expect([r.srcport, r.dstport, r.pkt_srcaddr, r.bytes, r.packets, r.tcp_flags]).toEqual([
      5001,
      43638,
      '10.0.0.62',
      967,
      14,
      19,
    ]);
  });

  it('parses the NAT gateway example: instance-id null and pkt-* addresses differing', () => {
    const layout = compileLayout('instance-id interface-id srcaddr dstaddr pkt-srcaddr pkt-dstaddr');
    const r = record(parseLine(layout, '- eni-1235b8ca123456789 10.0.0.220 10.0.1.5 203.0.113.5 10.0.1.5'));
    expect(r).toEqual({
      instance_id: null,
      interface_id: 'eni-1235b8ca123456789',
      srcaddr: '10.0.0.220',
      dstaddr: '10.0.1.5',
      pkt_srcaddr: '203.0.113.5',
      pkt_dstaddr: '10.0.1.5',
    });
  });
});

describe('parseLine rules', () => {
  it('treats tabs, CR and Unicode spaces as separators', () => {
    const line = '2\t123456789010\u00a0eni-1 1.1.1.1 2.2.2.2 1 2 17 3 4 1418530010 1418530070 ACCEPT\u3000OK\r';
    expect(record(parseLine(v2, line)).log_status).toBe('OK');
  });

  it('divides millisecond start/end above 2^31-1 by 1000, flooring, and keeps 2147483647 as seconds', () => {
    const r = record(parseLine(v2, '2 1 eni-1 - - - - - - - 1512564058999 2147483647 - NODATA'));
    expect([r.start_time, r.end_time]).toEqual([1512564058, 2147483647]);
  });

  it('accepts the largest safe int64 and rejects one more, naming the field', () => {
    const ok = record(parseLine(v2, '2 1 eni-1 a b 1 2 6 9007199254740991 000000000000000000000042 1 2 ACCEPT OK'));
    expect([ok.packets, ok.bytes]).toEqual([9007199254740991, 42]);
    expect(reject(parseLine(v2, '2 1 eni-1 a b 1 2 6 9007199254740992 1 1 2 ACCEPT OK'))).toEqual({
      ok: false,
      field: 'packets',
      reason: "packets: '9007199254740992' is out of range (max 9007199254740991)",
    });
  });

  it('checks ports 0-65535, protocol and tcp-flags 0-255, and rejects signs and decimals', () => {
    const layout = compileLayout('srcport protocol tcp-flags bytes');
    expect(record(parseLine(layout, '65535 255 255 0'))).toEqual({
      srcport: 65535,
      protocol: 255,
      tcp_flags: 255,
      bytes: 0,
    });
    expect(reject(parseLine(layout, '65536 6 2 0')).reason).toBe("srcport: expected an integer 0-65535, found '65536'");
    expect(reject(parseLine(layout, '80 256 2 0')).reason).toBe("protocol: expected an integer 0-255, found '256'");
    expect(reject(parseLine(layout, '80 6 256 0')).reason).toBe("tcp-flags: expected an integer 0-255, found '256'");
    expect(reject(parseLine(layout, '+80 6 2 0')).reason).toBe("srcport: expected an integer 0-65535, found '+80'");
    expect(reject(parseLine(layout, '80 6 2 1.5')).reason).toBe("bytes: expected a non-negative integer, found '1.5'");
  });

  it('shortens a long bad token in the reason', () => {
    const r = reject(parseLine(compileLayout('srcport'), 'x'.repeat(100)));
    expect(r.reason).toBe(`srcport: expected an integer 0-65535, found '${'x'.repeat(40)}…'`);
  });

  it('puts unknown future fields into extra as raw text, leaving `-` out', () => {
    const layout = compileLayout('version warp-factor srcaddr hyper-mode');
    expect(record(parseLine(layout, '12 9.5 10.0.0.1 -'))).toEqual({
      version: 12,
      extra: { 'warp-factor': '9.5' },
      srcaddr: '10.0.0.1',
    });
  });

  it('keeps enums as raw strings and enforces no cross-field consistency', () => {
    const r = record(parseLine(v2, '3 unknown - - - - - - - - 1 2 REJECT NODATA'));
    expect([r.version, r.account_id, r.interface_id, r.action, r.log_status]).toEqual([
      3,
      'unknown',
      null,
      'REJECT',
      'NODATA',
    ]);
    expect(record(parseLine(v2, '2 1 eni-1 a b 1 2 6 1 1 1 2 accept maybe')).action).toBe('accept');
  });

  it('strips the ISO timestamp that CloudWatch export-to-S3 prefixes to each line', () => {
    const r = record(
      parseLine(
        v2,
        '2018-09-22T20:28:14.000Z 2 633112549318 eni-d68830d4 1.1.1.1 2.2.2.2 1 2 6 3 4 1537648094 1537648154 ACCEPT OK',
      ),
    );
    expect([r.account_id, r.start_time]).toEqual(['633112549318', 1537648094]);
  });

  it('names the field count when a line is short or long, and an empty line has 0 fields', () => {
    expect(reject(parseLine(v2, '2 1 eni-1 a b 1 2 6 1 1 1 2 ACCEPT'))).toEqual({
      ok: false,
      reason: 'expected 14 fields, found 13',
    });
    expect(reject(parseLine(v2, '')).reason).toBe('expected 14 fields, found 0');
  });

  it('rejects transit gateway rows inside a VPC flow log, and parses them with a TGW header', () => {
    const row =
      '6 TransitGateway 123456789010 tgw-1 tgw-attach-1 123456789010 123456789010 vpc-a vpc-b subnet-a subnet-b eni-a eni-b use1-az1 use1-az2 tgw-attach-2 10.0.0.5 10.1.0.7 443 51234 6 10 5000 1700000000 1700000060 OK IPv4 0 0 0 0 2 us-east-1 egress - -';
    const reason =
      "transit gateway record (resource-type 'TransitGateway') in a VPC flow log; it does not follow this file's header";
    expect(reject(parseLine(v2, row)).reason).toBe(reason);
    const sameCount = compileLayout('version account-id srcaddr');
    expect(reject(parseLine(sameCount, '6 TransitGatewayAttachment 10.0.0.1')).reason).toBe(
      reason.replace("'TransitGateway'", "'TransitGatewayAttachment'"),
    );
    const tgw = compileLayout(
      'version resource-type account-id tgw-id tgw-attachment-id tgw-src-vpc-account-id tgw-dst-vpc-account-id tgw-src-vpc-id tgw-dst-vpc-id tgw-src-subnet-id tgw-dst-subnet-id tgw-src-eni tgw-dst-eni tgw-src-az-id tgw-dst-az-id tgw-pair-attachment-id srcaddr dstaddr srcport dstport protocol packets bytes start end log-status type packets-lost-no-route packets-lost-blackhole packets-lost-mtu-exceeded packets-lost-ttl-expired tcp-flags region flow-direction pkt-src-aws-service pkt-dst-aws-service',
    );
    const r = record(parseLine(tgw, row));
    expect([r.resource_type, r.tgw_id, r.bytes, r.packets_lost_ttl_expired, r.tcp_flags, r.flow_direction]).toEqual([
      'TransitGateway',
      'tgw-1',
      5000,
      0,
      2,
      'egress',
    ]);
  });
});

describe('typed values (Parquet, JSON)', () => {
  const spec = (n: string) => fieldByName(n)!;
  it('reads `-`, None and empty strings as null and checks text numbers', () => {
    expect(parseFieldText(spec('srcport'), '-')).toEqual({ ok: true, value: null });
    expect(parseFieldText(spec('action'), 'None')).toEqual({ ok: true, value: null });
    expect(parseFieldText(spec('srcport'), '443')).toEqual({ ok: true, value: 443 });
    expect(parseFieldText(spec('srcport'), 'https')).toEqual({
      ok: false,
      reason: "srcport: expected an integer 0-65535, found 'https'",
    });
  });
  it('checks typed numbers against the field range and converts ms epochs', () => {
    expect(checkFieldNumber(spec('start'), 1512564058000n)).toEqual({ ok: true, value: 1512564058 });
    expect(checkFieldNumber(spec('protocol'), 300)).toEqual({
      ok: false,
      reason: "protocol: expected an integer 0-255, found '300'",
    });
    expect(checkFieldNumber(spec('bytes'), -1n)).toEqual({
      ok: false,
      reason: "bytes: expected a non-negative integer, found '-1'",
    });
  });
});
