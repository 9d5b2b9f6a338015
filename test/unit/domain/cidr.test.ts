import { describe, expect, it } from 'vitest';
import { formatIpv6, ipv6Hex, parseAddressBlock } from '../../../src/domain/cidr.ts';

describe('parseAddressBlock', () => {
  it('reads IPv4 addresses and blocks as closed integer ranges, clearing host bits', () => {
    expect(parseAddressBlock('10.0.0.5')).toEqual({
      family: 4,
      prefix: 32,
      first: 167772165n,
      last: 167772165n,
      text: '10.0.0.5',
    });
    // 10.1.17.9/20 -> 10.1.16.0 .. 10.1.31.255
    const b = parseAddressBlock('10.1.17.9/20');
    expect(b?.text).toBe('10.1.16.0/20');
    expect([b?.first, b?.last]).toEqual([
      (10n << 24n) + (1n << 16n) + (16n << 8n),
      (10n << 24n) + (1n << 16n) + (31n << 8n) + 255n,
    ]);
    expect(parseAddressBlock('0.0.0.0/0')).toMatchObject({ first: 0n, last: 4294967295n, text: '0.0.0.0/0' });
  });

  it('reads IPv6 with :: compression, an embedded IPv4 tail and prefixes', () => {
    expect(parseAddressBlock('2001:db8::1')).toMatchObject({
      family: 6,
      prefix: 128,
      first: 0x20010db8000000000000000000000001n,
    });
    expect(parseAddressBlock('::1')?.first).toBe(1n);
    expect(parseAddressBlock('::ffff:10.0.0.1')?.first).toBe(0xffff0a000001n);
    const b = parseAddressBlock('2600:1F18:abcd:1::/48');
    expect(b?.text).toBe('2600:1f18:abcd::/48');
    expect(ipv6Hex(b?.last ?? 0n)).toBe('26001f18abcdffffffffffffffffffff');
  });

  it('refuses malformed text', () => {
    for (const bad of [
      '10.0.0.256',
      '10.0.0',
      '10.0.0.1/33',
      '010.0.0.1',
      '1:2:3:4:5:6:7:8:9',
      '2001:db8::1::2',
      'fe80::/129',
      'x',
      '10.0.0.1/',
      '::g',
    ]) {
      expect(parseAddressBlock(bad), bad).toBeNull();
    }
  });

  it('formats IPv6 as RFC 5952 (longest zero run, lowercase; single zero groups kept)', () => {
    expect(formatIpv6(0x20010db8000000000001000000000001n)).toBe('2001:db8::1:0:0:1');
    expect(formatIpv6(0x20010db8000100000001000100010001n)).toBe('2001:db8:1:0:1:1:1:1');
    expect(formatIpv6(0n)).toBe('::');
  });
});
