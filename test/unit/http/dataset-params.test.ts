import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FILTER_FIELDS, type FilterParam } from '../../../src/domain/filter-fields.ts';
import { InputError } from '../../../src/domain/input-error.ts';
import { parseDatasetRequest } from '../../../src/http/dataset-params.ts';

const options = {
  now: new Date('2024-05-10T12:00:00Z'),
  latestDataEnd: new Date('2024-05-03T00:00:00Z'),
  maxRows: 1000,
};
const summary = (query: string) => parseDatasetRequest('summary', new URLSearchParams(query), options);

function errorOf(query: string): InputError {
  try {
    summary(query);
  } catch (err) {
    if (err instanceof InputError) return err;
    throw err;
  }
  throw new Error('expected an InputError');
}

describe('dataset URL windows', () => {
  it('takes relative windows as GraphQL does: latestDay (also as a bare flag) and last', () => {
    const day = { from: new Date('2024-05-02T00:00:00Z'), to: new Date('2024-05-03T00:00:00Z') };
    expect(summary('latestDay=true').filter.timeRange).toEqual(day);
    expect(summary('latestDay').filter.timeRange).toEqual(day);
    expect(summary('latestDay=1').filter.timeRange).toEqual(day);
    expect(summary('last=PT6H').filter.timeRange).toEqual({ from: new Date('2024-05-10T06:00:00Z'), to: options.now });
    expect(summary('last=P1D&to=2024-05-05').filter.timeRange).toEqual({
      from: new Date('2024-05-04T00:00:00Z'),
      to: new Date('2024-05-05T00:00:00Z'),
    });
  });

  it('names the URL parameter in errors', () => {
    expect(errorOf('latestDay=maybe').argument).toBe('latestDay');
    expect(errorOf('last=P1M').argument).toBe('last');
    expect(errorOf('last=PT1H&from=2024-05-01').argument).toBe('from');
    expect(errorOf('latestDay=true&to=2024-05-01').argument).toBe('to');
    expect(errorOf('last=P40D').message).toMatch(
      /^Invalid from: expected a window of at most 31 days \(the server's --max-range-days/,
    );
  });

  it("lets an aggregate span the tiers' window (--max-tier-range-days), a flows download only the records' one", () => {
    const tiered = { ...options, maxTierRangeMs: 400 * 86_400_000 };
    const parse = (name: 'summary' | 'flows', query: string) =>
      parseDatasetRequest(name, new URLSearchParams(query), tiered);
    const { from, to } = parse('summary', 'last=P200D&to=2024-05-05').filter.timeRange;
    expect((to.getTime() - from.getTime()) / 86_400_000).toBe(200);
    expect(() => parse('summary', 'last=P500D&to=2024-05-05')).toThrow(
      /at most 400 days \(the server's --max-tier-range-days, FLOWQL_MAX_TIER_RANGE_DAYS, for aggregates the rollup tiers answer\)/,
    );
    expect(() => parse('flows', 'last=P200D&to=2024-05-05')).toThrow(
      /at most 31 days \(the server's --max-range-days, FLOWQL_MAX_RANGE_DAYS\)/,
    );
  });

  it('refuses what GraphQL refuses: a time series ranked by a distinct count (groups overlap, so their sums mean nothing)', () => {
    const timeseries = (query: string) => () => parseDatasetRequest('timeseries', new URLSearchParams(query), options);
    const query = 'from=2024-05-02T00:00:00Z&to=2024-05-03T00:00:00Z&by=SRC_ADDR';
    expect(timeseries(`${query}&rankBy=DISTINCT_SRC_ADDRS`)).toThrow(
      /^Invalid rankBy: expected a metric that adds up over buckets: RECORDS, /,
    );
    expect(timeseries(`${query}&rankBy=PACKETS`)()).toMatchObject({
      groupBy: { dimension: 'SRC_ADDR', rankBy: 'PACKETS' },
    });
  });

  it('refuses on the connection datasets a filter they cannot honour, naming its URL parameter', () => {
    const edges = (query: string) => () => parseDatasetRequest('edges', new URLSearchParams(query), options);
    expect(edges('latestDay=true&action=REJECT')).toThrow(
      /^Invalid action: expected no action on edges: a connection holds accepted and rejected/,
    );
    expect(edges('latestDay=true&srcPort=443')).toThrow(/^Invalid srcPort: expected no srcPort on edges/);
    expect(edges('latestDay=true&notAddr=10.0.0.0/8')()).toMatchObject({ dataset: 'edges' });
  });

  it('takes tcpFlags as GraphQL does, one URL parameter per list, and names that parameter in errors', () => {
    const got = summary('latestDay=true&tcpFlagsAny=syn&tcpFlagsAny=FIN&tcpFlagsNone=ACK');
    expect(got.filter.tcpFlags).toEqual({ any: 2 | 1, all: 0, none: 16 });
    expect(errorOf('latestDay=true&tcpFlagsAll=FOO').message).toMatch(/^Invalid tcpFlagsAll: expected /);
    const edges = () => parseDatasetRequest('edges', new URLSearchParams('latestDay=true&tcpFlagsNone=RST'), options);
    expect(edges).toThrow(/^Invalid tcpFlagsNone: expected no tcpFlagsNone on edges/);
  });

  it('takes thresholds as single values, and names the parameter of a bad or repeated one', () => {
    const got = summary('latestDay=true&minBytes=500000000&maxPackets=10&minDurationSeconds=60').filter;
    expect([got.minBytes, got.maxBytes, got.maxPackets, got.minDurationSeconds]).toEqual([500_000_000n, null, 10n, 60]);
    expect(errorOf('latestDay=true&minBytes=-1').message).toMatch(/^Invalid minBytes: expected bytes: a whole number/);
    expect(errorOf('latestDay=true&minBytes=1&minBytes=2').argument).toBe('minBytes');
    expect(errorOf('latestDay=true&maxDurationSeconds=1.5').argument).toBe('maxDurationSeconds');
    const edges = () => parseDatasetRequest('edges', new URLSearchParams('latestDay=true&minBytes=1'), options);
    expect(edges).toThrow(/^Invalid minBytes: expected no minBytes on edges: thresholds test single records/);
  });

  it('reads every list parameter and alias the filter table names (cidr is addr)', () => {
    const got = summary('latestDay=true&cidr=10.0.0.0/8&addr=192.168.0.0/16&notPort=22,3389&protocol=udp').filter;
    expect(got.addr?.map((b) => b.text)).toEqual(['192.168.0.0/16', '10.0.0.0/8']);
    expect(got.notPorts).toEqual([
      { from: 22, to: 22 },
      { from: 3389, to: 3389 },
    ]);
    expect(got.protocols).toEqual([17]);
    expect(errorOf('latestDay=true&cidr=10.0.0.0/33').argument).toBe('cidr');
  });

  it('every filter parameter and alias FILTER_FIELDS names is documented in docs/bi.md', async () => {
    const doc = await readFile(join(import.meta.dirname, '../../../docs/bi.md'), 'utf8');
    const params = Object.values(FILTER_FIELDS).flatMap((f): FilterParam[] =>
      'parts' in f.url ? Object.values(f.url.parts) : [f.url],
    );
    const names = params.flatMap((p) => [p.param, ...(p.aliases ?? [])]);
    expect(names.filter((n) => !doc.includes(`\`${n}\``))).toEqual([]);
  });

  it("merges a metric's having bounds into one (a max below the min is refused, as GraphQL refuses it), and a threshold max below its min", () => {
    const topn = (q: string) => parseDatasetRequest('topn', new URLSearchParams(`latestDay=true&${q}`), options);
    const got = topn('having=BYTES>=10&having=bytes<=500');
    expect(got.dataset === 'topn' && got.having).toEqual([{ metric: 'BYTES', min: 10, max: 500 }]);
    expect(() => topn('having=BYTES>=10&having=BYTES<=5')).toThrow(
      /^Invalid having\[0\]\.max: expected a number at least min \(10\)/,
    );
    expect(() => topn('having=BYTES>=10,BYTES>=20')).toThrow(/^Invalid having\[1\]: expected one min per metric/);
    expect(errorOf('latestDay=true&minBytes=100&maxBytes=99').argument).toBe('maxBytes');
    expect(errorOf('latestDay=true&minDurationSeconds=60&maxDurationSeconds=59').message).toMatch(
      /^Invalid maxDurationSeconds: expected a value at least minDurationSeconds \(60\)/,
    );
  });
});

describe('dataset URL tags', () => {
  const parse = (dataset: 'summary' | 'edges', query: string) =>
    parseDatasetRequest(dataset, new URLSearchParams(query), { ...options, inventorySnapshots: ['/inv.parquet'] });
  const argumentOf = (dataset: 'summary' | 'edges', query: string): string => {
    try {
      parse(dataset, query);
    } catch (err) {
      if (err instanceof InputError) return err.argument;
      throw err;
    }
    throw new Error('expected an InputError');
  };

  it('reads tagKey and tagValue as the filter tag { key, values }, bound to the inventory', () => {
    expect(parse('summary', 'tagKey=aws:cloudformation:stack-name&tagValue=a=b,c&tagValue=d').filter.tag).toEqual({
      key: 'aws:cloudformation:stack-name',
      values: ['a=b', 'c', 'd'],
      snapshots: ['/inv.parquet'],
      accounts: null,
    });
    expect(argumentOf('summary', 'tagValue=payments')).toBe('tagKey');
    expect(argumentOf('summary', 'tagKey=team')).toBe('tagValue');
    expect(argumentOf('summary', 'tagKey=team&tagKey=app&tagValue=x')).toBe('tagKey');
  });

  it('reads level=TAG with levelTagKey, and refuses either without the other', () => {
    const req = parse('edges', 'level=tag&levelTagKey=app&tagKey=team&tagValue=payments');
    expect(req).toMatchObject({ level: 'TAG', tagKey: 'app', filter: { tag: { key: 'team', values: ['payments'] } } });
    expect(argumentOf('edges', 'level=TAG')).toBe('levelTagKey');
    expect(argumentOf('edges', 'level=VPC&levelTagKey=app')).toBe('levelTagKey');
  });
});
