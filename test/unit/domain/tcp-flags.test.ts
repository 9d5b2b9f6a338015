import { describe, expect, it } from 'vitest';
import { hasFin, hasRst, isSyn, isSynAck, tcpFlagNames } from '../../../src/domain/tcp-flags.ts';
import { protocolName, protocolNumber } from '../../../src/domain/protocols.ts';

describe('tcp flags', () => {
  it('names the bits of every value VPC flow logs can report (ORs of 1, 2, 4, 18)', () => {
    const table = [0, 1, 2, 3, 4, 5, 6, 7, 18, 19, 22, 23].map((v) => `${v}=${tcpFlagNames(v).join('|')}`);
    expect(table).toEqual([
      '0=',
      '1=FIN',
      '2=SYN',
      '3=FIN|SYN',
      '4=RST',
      '5=FIN|RST',
      '6=SYN|RST',
      '7=FIN|SYN|RST',
      '18=SYN|ACK',
      '19=FIN|SYN|ACK',
      '22=SYN|RST|ACK',
      '23=FIN|SYN|RST|ACK',
    ]);
    expect(tcpFlagNames(63)).toEqual(['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG']);
  });

  it('tells the client (SYN) from the server (SYN-ACK), as in the TCP flag sequence example', () => {
    expect([2, 3, 18, 19, 1, 0, 16].map((f) => isSyn(f))).toEqual([true, true, false, false, false, false, false]);
    expect([2, 3, 18, 19, 22, 16].map((f) => isSynAck(f))).toEqual([false, false, true, true, true, false]);
    expect([isSyn(null), isSynAck(undefined), hasFin(19), hasFin(18), hasRst(7), hasRst(3)]).toEqual([
      false,
      false,
      true,
      false,
      true,
      false,
    ]);
  });
});

describe('protocol names', () => {
  it('names common IANA numbers and falls back to the number', () => {
    expect([6, 17, 1, 58, 47, 50, 51, 132, 253].map(protocolName)).toEqual([
      'TCP',
      'UDP',
      'ICMP',
      'ICMPv6',
      'GRE',
      'ESP',
      'AH',
      'SCTP',
      '253',
    ]);
    expect([protocolNumber('tcp'), protocolNumber('ICMPv6'), protocolNumber('nope')]).toEqual([6, 58, undefined]);
  });
});
