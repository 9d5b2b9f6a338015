import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from '../../../src/http/metrics-registry.ts';

describe('MetricsRegistry', () => {
  it('renders counters, cumulative histogram buckets and gauges in the Prometheus text format', () => {
    const r = new MetricsRegistry();
    const c = r.counter('x_requests_total', 'Requests.');
    c.inc({ route: '/graphql', status: '200' });
    c.inc({ status: '200', route: '/graphql' }, 2);
    c.inc({ route: 'a"b\\c\nd', status: '500' });
    const h = r.histogram('x_seconds', 'Latency.', [0.1, 1]);
    h.observe({ op: 'Q' }, 0.05);
    h.observe({ op: 'Q' }, 0.5);
    h.observe({ op: 'Q' }, 3);
    r.gauge('x_in_flight', 'In flight.', () => [{ value: 2 }]);
    expect(c.get({ route: '/graphql', status: '200' })).toBe(3);
    expect(r.render()).toBe(
      [
        '# HELP x_requests_total Requests.',
        '# TYPE x_requests_total counter',
        'x_requests_total{route="/graphql",status="200"} 3',
        'x_requests_total{route="a\\"b\\\\c\\nd",status="500"} 1',
        '# HELP x_seconds Latency.',
        '# TYPE x_seconds histogram',
        'x_seconds_bucket{op="Q",le="0.1"} 1',
        'x_seconds_bucket{op="Q",le="1"} 2',
        'x_seconds_bucket{op="Q",le="+Inf"} 3',
        'x_seconds_sum{op="Q"} 3.55',
        'x_seconds_count{op="Q"} 3',
        '# HELP x_in_flight In flight.',
        '# TYPE x_in_flight gauge',
        'x_in_flight 2',
        '',
      ].join('\n'),
    );
    expect(() => r.counter('x_seconds', 'again')).toThrow('metric x_seconds is registered twice');
  });
});
