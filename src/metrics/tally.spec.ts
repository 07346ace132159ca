import { Registry } from 'prom-client';
import { FastCounter, FastHistogram } from './tally.js';

describe('FastCounter and FastHistogram', () => {
  it('expose what prom-client would, in the Prometheus text format', async () => {
    const registry = new Registry();
    const counter = new FastCounter('c_total', 'A counter.', ['bot', 'type']).register(registry);
    const three = new FastCounter('p_total', 'Three labels.', ['bot', 'type', 'target']).register(registry);
    const histogram = new FastHistogram('d_seconds', 'A histogram.', 'target', [0.01, 0.1]).register(
      registry,
    );
    counter.cell('1', 'message').value++;
    counter.cell('1', 'message').value++;
    counter.cell('2', 'callback_query').value++;
    three.cell('1', 'message', 'redis').value++;
    histogram.observe('redis', 0.005);
    histogram.observe('redis', 0.05);
    histogram.observe('redis', 3);
    const text = await registry.metrics();
    expect(text).toContain('# TYPE c_total counter');
    expect(text).toContain('c_total{bot="1",type="message"} 2');
    expect(text).toContain('c_total{bot="2",type="callback_query"} 1');
    expect(text).toContain('p_total{bot="1",type="message",target="redis"} 1');
    expect(text).toContain('# TYPE d_seconds histogram');
    expect(text).toContain('d_seconds_bucket{le="0.01",target="redis"} 1');
    expect(text).toContain('d_seconds_bucket{le="0.1",target="redis"} 2');
    expect(text).toContain('d_seconds_bucket{le="+Inf",target="redis"} 3');
    expect(text).toContain('d_seconds_sum{target="redis"} 3.055');
    expect(text).toContain('d_seconds_count{target="redis"} 3');
  });
});
