import { describe, expect, it } from 'vitest';
import { buckets, parse, quantile, rates, sum } from './prometheus';

const text = `# HELP http_requests_total Requests.
# TYPE http_requests_total counter
http_requests_total{method="GET",route="/api/chats",status="200"} 10
http_requests_total{method="POST",route="/api/chats",status="500"} 2
http_requests_total{method="GET",route="/health",status="200"} 5
plaza_ws_connections 7
odd line
lat_bucket{route="/a",le="0.1"} 5
lat_bucket{route="/a",le="0.5"} 9
lat_bucket{route="/a",le="+Inf"} 10
label_with_escapes{path="a\\"b"} 1
`;

describe('prometheus', () => {
  const s = parse(text);
  it('reads samples and labels, skipping comments and junk', () => {
    expect(s).toHaveLength(8);
    expect(s[0]).toEqual({ name: 'http_requests_total', labels: { method: 'GET', route: '/api/chats', status: '200' }, value: 10 });
    expect(s.at(-1)!.labels['path']).toBe('a"b');
  });
  it('sums by labels', () => {
    expect(sum(s, 'http_requests_total', ['route'])).toEqual(new Map([['/api/chats', 12], ['/health', 5]]));
    expect(sum(s, 'http_requests_total', [], (x) => x.labels['status']!.startsWith('5')).get('')).toBe(2);
  });
  it('turns counters into rates, counting a reset from zero', () => {
    const r = rates(new Map([['a', 10], ['b', 50]]), new Map([['a', 30], ['b', 5], ['c', 4]]), 2);
    expect(r).toEqual(new Map([['a', 10], ['b', 2.5], ['c', 2]]));
  });
  it('estimates quantiles from bucket increases', () => {
    const after = buckets(s, 'lat');
    expect(quantile(0.5, new Map(), after)).toBeCloseTo(0.1);
    expect(quantile(0.9, new Map(), after)).toBeCloseTo(0.5);
    expect(quantile(0.99, new Map(), after)).toBe(0.5);
    expect(quantile(0.5, after, after)).toBeNull();
  });
});
