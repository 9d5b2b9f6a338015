import { describe, expect, it } from 'vitest';
import { datesInRange, parseIsoDateTime, validateFlowFilter } from '../../../src/domain/flow-filter.ts';
import { InputError } from '../../../src/domain/input-error.ts';

const now = new Date('2024-05-10T12:00:00Z');
const range = { from: '2024-05-01T00:00:00Z', to: '2024-05-02T00:00:00Z' };

function errorOf(raw: unknown, options = {}): InputError {
  try {
    validateFlowFilter(raw, { now, ...options });
  } catch (err) {
    if (err instanceof InputError) return err;
    throw err;
  }
  throw new Error('expected an InputError');
}

describe('validateFlowFilter', () => {
  it('defaults the window to the 24 h ending at the newest day of data, else now', () => {
    expect(validateFlowFilter({}, { now, latestDataEnd: new Date('2024-05-03T00:00:00Z') }).timeRange).toEqual({
      from: new Date('2024-05-02T00:00:00Z'),
      to: new Date('2024-05-03T00:00:00Z'),
    });
    expect(validateFlowFilter(undefined, { now }).timeRange.from).toEqual(new Date('2024-05-09T12:00:00Z'));
    // Only `from`: up to now. Only `to`: the 24 h before it.
    expect(validateFlowFilter({ timeRange: { from: '2024-05-10' } }, { now }).timeRange.to).toEqual(now);
    expect(validateFlowFilter({ timeRange: { to: '2024-05-05T06:00:00+02:00' } }, { now }).timeRange).toEqual({
      from: new Date('2024-05-04T04:00:00Z'),
      to: new Date('2024-05-05T04:00:00Z'),
    });
  });

  it('keeps valid values and derives masks and port ranges', () => {
    const f = validateFlowFilter(
      {
        timeRange: range,
        accountIds: ['012345678901'],
        srcAddr: ['10.0.0.0/8'],
        dstPort: [{ from: 443 }, { from: 1024, to: 2047 }],
        tcpFlags: { all: ['SYN', 'ACK'], none: ['RST'] },
        actions: ['REJECT'],
      },
      { now, scopeAccountIds: ['012345678901', '111111111111'] },
    );
    expect(f.accountIds).toEqual(['012345678901']);
    expect(f.srcAddr?.map((b) => b.text)).toEqual(['10.0.0.0/8']);
    expect(f.dstPort).toEqual([
      { from: 443, to: 443 },
      { from: 1024, to: 2047 },
    ]);
    expect(f.tcpFlags).toEqual({ any: 0, all: 18, none: 4 });
    expect(f.scopeAccountIds).toEqual(['012345678901', '111111111111']);
    expect(f.protocols).toBeNull();
  });

  it('names the argument path and what was expected', () => {
    const cases: [unknown, string, RegExp][] = [
      [{ timeRange: { from: 'yesterday' } }, 'filter.timeRange.from', /ISO-8601/],
      [{ timeRange: { from: '2024-05-02', to: '2024-05-01' } }, 'filter.timeRange', /from before to/],
      [{ timeRange: { from: '2024-01-01', to: '2024-03-01' } }, 'filter.timeRange', /at most 31 days/],
      [
        { timeRange: range, srcAddr: ['10.0.0.0/8', '10.0.0.300'] },
        'filter.srcAddr[1]',
        /IPv4 or IPv6 address or CIDR/,
      ],
      [{ timeRange: range, notAddr: ['fe80::/200'] }, 'filter.notAddr[0]', /CIDR/],
      [{ timeRange: range, port: [{ from: 70000 }] }, 'filter.port[0].from', /port: an integer from 0 to 65535/],
      [{ timeRange: range, srcPort: [{ from: 100, to: 10 }] }, 'filter.srcPort[0].to', /a port >= from \(100\)/],
      [{ timeRange: range, actions: ['DROP'] }, 'filter.actions[0]', /one of ACCEPT, REJECT/],
      [{ timeRange: range, accountIds: ['1234'] }, 'filter.accountIds[0]', /12-digit/],
      [{ timeRange: range, protocols: [256] }, 'filter.protocols[0]', /0 to 255/],
      [{ timeRange: range, tcpFlags: { any: ['SYNACK'] } }, 'filter.tcpFlags.any[0]', /one of FIN, SYN/],
      [{ timeRange: range, vpcId: ['vpc-1'] }, 'filter.vpcId', /one of the filter fields/],
    ];
    for (const [raw, argument, expected] of cases) {
      const err = errorOf(raw);
      expect(err.argument, JSON.stringify(raw)).toBe(argument);
      expect(err.message).toMatch(expected);
      expect(err.message.startsWith(`Invalid ${argument}: expected `)).toBe(true);
    }
    expect(errorOf({ timeRange: range, srcAddr: ['10.0.0.300'] }).message).toBe(
      'Invalid filter.srcAddr[0]: expected an IPv4 or IPv6 address or CIDR block, e.g. 10.0.0.5, 10.0.0.0/8, 2600:1f18::1 or 2600:1f18::/32, found "10.0.0.300"',
    );
  });

  it('uses the argument name it is given and a configurable maximum window', () => {
    const err = errorOf(
      { timeRange: { from: '2024-05-01', to: '2024-05-03' } },
      { argument: 'where', maxRangeMs: 86_400_000 },
    );
    expect(err.argument).toBe('where.timeRange');
    expect(err.message).toMatch(/at most 1 days/);
  });
});

describe('relative windows', () => {
  const latestDataEnd = new Date('2024-05-03T00:00:00Z');
  const window = (timeRange: unknown, o: { latestDataEnd?: Date | null; maxRangeMs?: number } = {}) =>
    validateFlowFilter({ timeRange }, { now, latestDataEnd, ...o }).timeRange;

  it('latestDay is the newest UTC day with data, else the current UTC day', () => {
    expect(window({ latestDay: true })).toEqual({ from: new Date('2024-05-02T00:00:00Z'), to: latestDataEnd });
    expect(window({ latestDay: true }, { latestDataEnd: null })).toEqual({
      from: new Date('2024-05-10T00:00:00Z'),
      to: new Date('2024-05-11T00:00:00Z'),
    });
    // latestDay: false is no condition: the default window.
    expect(window({ latestDay: false })).toEqual(window({}));
  });

  it('last is a duration ending at to, or now', () => {
    expect(window({ last: 'PT24H' })).toEqual({ from: new Date('2024-05-09T12:00:00Z'), to: now });
    expect(window({ last: 'PT15M' }).from).toEqual(new Date('2024-05-10T11:45:00Z'));
    expect(window({ last: 'P1DT6H30M' }).from).toEqual(new Date('2024-05-09T05:30:00Z'));
    expect(window({ last: 'P1W', to: '2024-05-08' })).toEqual({
      from: new Date('2024-05-01T00:00:00Z'),
      to: new Date('2024-05-08T00:00:00Z'),
    });
    expect(window({ last: 'PT0.5S' }).from).toEqual(new Date('2024-05-10T11:59:59.500Z'));
  });

  it('refuses malformed durations, months, mixtures and windows over the maximum, naming the field', () => {
    const cases: [unknown, string, RegExp][] = [
      [{ last: '24h' }, 'filter.timeRange.last', /ISO-8601 duration/],
      [{ last: 'P1M' }, 'filter.timeRange.last', /no months or years/],
      [{ last: 'PT' }, 'filter.timeRange.last', /ISO-8601 duration/],
      [{ last: 'P0D' }, 'filter.timeRange.last', /ISO-8601 duration/],
      [{ last: 24 }, 'filter.timeRange.last', /ISO-8601 duration/],
      [{ last: 'PT1H', from: '2024-05-01' }, 'filter.timeRange.from', /no from with last/],
      [{ latestDay: true, to: '2024-05-01' }, 'filter.timeRange.to', /no from, to or last with latestDay/],
      [{ latestDay: true, last: 'PT1H' }, 'filter.timeRange.last', /no from, to or last with latestDay/],
      [{ latestDay: 'yes' }, 'filter.timeRange.latestDay', /true or false/],
      [
        { last: 'P32D' },
        'filter.timeRange',
        /at most 31 days \(the server's --max-range-days, FLOWQL_MAX_RANGE_DAYS\)/,
      ],
      [{ last: 'P14800000W' }, 'filter.timeRange', /at most 31 days/],
    ];
    for (const [timeRange, argument, expected] of cases) {
      const err = errorOf({ timeRange });
      expect(err.argument, JSON.stringify(timeRange)).toBe(argument);
      expect(err.message).toMatch(expected);
    }
  });

  it('cuts a long value out of the error message', () => {
    const err = errorOf({ timeRange: { from: 'x'.repeat(100_000) } });
    expect(err.message.length).toBeLessThan(600);
    expect(err.message).toMatch(/\.\.\. \(100002 characters\)$/);
  });
});

describe('parseIsoDateTime and datesInRange', () => {
  it('parses dates, offsets and fractions; refuses impossible dates', () => {
    expect(parseIsoDateTime('2024-02-29')?.toISOString()).toBe('2024-02-29T00:00:00.000Z');
    expect(parseIsoDateTime('2024-05-01T12:30:15.250-01:30')?.toISOString()).toBe('2024-05-01T14:00:15.250Z');
    expect(parseIsoDateTime('2023-02-29')).toBeNull();
    expect(parseIsoDateTime('2024-05-01T24:00:00Z')).toBeNull();
  });

  it('lists the UTC dates a half-open window touches', () => {
    const d = (s: string) => new Date(s);
    expect(datesInRange({ from: d('2024-05-01T23:00:00Z'), to: d('2024-05-03T00:00:00Z') })).toEqual([
      '2024-05-01',
      '2024-05-02',
    ]);
    expect(datesInRange({ from: d('2024-05-01T00:00:00Z'), to: d('2024-05-01T00:00:01Z') })).toEqual(['2024-05-01']);
  });
});
