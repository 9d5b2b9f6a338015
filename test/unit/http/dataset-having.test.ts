// The datasets' `having` and `rateInterval` parameters: the text syntax, errors naming the parameter, and the
// time series refusing rate metrics (GraphQL's FlowTimePoint has no rate fields).
import { describe, expect, it } from 'vitest';
import { parseDatasetRequest } from '../../../src/http/dataset-params.ts';

const options = {
  now: new Date('2024-05-10T12:00:00Z'),
  latestDataEnd: new Date('2024-05-03T00:00:00Z'),
  maxRows: 1000,
};
const DAY = 'from=2024-05-02T00:00:00Z&to=2024-05-03T00:00:00Z';
const topn = (query: string) => parseDatasetRequest('topn', new URLSearchParams(`${DAY}&${query}`), options);

describe('having=METRIC>=n, METRIC<=n', () => {
  it('reads repeated and comma-separated bounds, metric names in any case', () => {
    expect(topn('by=SRC_ADDR&having=BYTES>=1000000&having=distinct_dst_ports>=100,AVG_BYTES<=1.5e3')).toMatchObject({
      having: [
        { metric: 'BYTES', min: 1_000_000, max: null },
        { metric: 'DISTINCT_DST_PORTS', min: 100, max: null },
        { metric: 'AVG_BYTES', min: null, max: 1500 },
      ],
      rateInterval: 'FIVE_MINUTES',
    });
    expect(topn('by=SRC_ADDR')).toMatchObject({ having: [] });
  });

  it('names the parameter item in errors', () => {
    expect(() => topn('having=BYTES>1000')).toThrow(
      'Invalid having[0]: expected METRIC>=number or METRIC<=number, such as BYTES>=1000000, found "BYTES>1000"',
    );
    expect(() => topn('having=RECORDS>=1&having=TALKERS>=3')).toThrow(/^Invalid having\[1\]: expected a metric of/);
  });

  it('refuses more rate buckets than the limit naming rateInterval, only when a rate is computed', () => {
    const week = 'from=2024-04-20T00:00:00Z&to=2024-04-28T00:00:00Z';
    const breakdown = (query: string) => () =>
      parseDatasetRequest('breakdown', new URLSearchParams(`${week}&by=VPC&rateInterval=minute&${query}`), options);
    expect(breakdown('having=P95_BITS_PER_SECOND>=1000')).toThrow(/^Invalid rateInterval: expected at most 10000/);
    expect(breakdown('values=BYTES')()).toMatchObject({ rateInterval: 'MINUTE', having: [] });
  });

  it('refuses a rate metric among a time series values', () => {
    const series = () =>
      parseDatasetRequest('timeseries', new URLSearchParams(`${DAY}&values=BYTES,PEAK_BITS_PER_SECOND`), options);
    expect(series).toThrow(/^Invalid values\[1\]: expected a value of a time bucket, not a rate/);
  });
});
