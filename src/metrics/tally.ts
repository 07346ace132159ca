import type { Registry } from 'prom-client';

/**
 * Counters and a histogram for the hot path, registered in a prom-client registry as ordinary
 * metrics. prom-client hashes and validates the labels on every `inc()`; here a count is two map
 * lookups and an add, and labels are only formatted when Prometheus scrapes.
 */
export interface MetricValue {
  labels: Record<string, string>;
  value: number;
  metricName?: string;
}

abstract class FastMetric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'histogram' | 'gauge',
  ) {}

  /** What prom-client's registry calls at scrape time. */
  get(): Promise<{ name: string; help: string; type: string; values: MetricValue[]; aggregator: 'sum' }> {
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      values: this.values(),
      aggregator: 'sum',
    });
  }

  reset(): void {
    this.clear();
  }

  protected abstract values(): MetricValue[];
  protected abstract clear(): void;

  register(registry: Registry): this {
    registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
    return this;
  }
}

/** A counter with two or three labels. */
export class FastCounter extends FastMetric {
  private readonly cells = new Map<string, Map<string, Map<string, MetricValue>>>();

  constructor(
    name: string,
    help: string,
    private readonly labelNames: readonly [string, string] | readonly [string, string, string],
  ) {
    super(name, help, 'counter');
  }

  /** The cell counting (a, b, c): callers keep it and add to its `value`. */
  cell(a: string, b: string, c = ''): MetricValue {
    let byB = this.cells.get(a);
    if (!byB) this.cells.set(a, (byB = new Map<string, Map<string, MetricValue>>()));
    let byC = byB.get(b);
    if (!byC) byB.set(b, (byC = new Map<string, MetricValue>()));
    let cell = byC.get(c);
    if (!cell) byC.set(c, (cell = { labels: this.labelsOf(a, b, c), value: 0 }));
    return cell;
  }

  private labelsOf(a: string, b: string, c: string): Record<string, string> {
    const [first, second, third] = this.labelNames;
    return third === undefined ? { [first]: a, [second]: b } : { [first]: a, [second]: b, [third]: c };
  }

  protected values(): MetricValue[] {
    const values: MetricValue[] = [];
    for (const byB of this.cells.values()) {
      for (const byC of byB.values()) for (const cell of byC.values()) values.push({ ...cell });
    }
    return values;
  }

  /**
   * Adds every cell whose first label is neither `into` nor empty (a request that named no bot)
   * to the cell of the same other labels under `into`, and drops it: the sum over all series
   * stays what it was. Callers must not keep the dropped cells.
   */
  fold(into: string): void {
    for (const [a, byB] of this.cells) {
      if (a === into || a === '') continue;
      for (const [b, byC] of byB) for (const [c, cell] of byC) this.cell(into, b, c).value += cell.value;
      this.cells.delete(a);
    }
  }

  /** Zeroes the counts but keeps the cells: callers may hold them. */
  protected clear(): void {
    for (const byB of this.cells.values())
      for (const byC of byB.values()) for (const cell of byC.values()) cell.value = 0;
  }
}

/** A histogram with one label. */
export class FastHistogram extends FastMetric {
  private readonly series = new Map<string, { counts: number[]; sum: number; count: number }>();

  constructor(
    name: string,
    help: string,
    private readonly labelName: string,
    private readonly buckets: readonly number[],
  ) {
    super(name, help, 'histogram');
  }

  observe(label: string, value: number): void {
    let series = this.series.get(label);
    if (!series) this.series.set(label, (series = { counts: this.buckets.map(() => 0), sum: 0, count: 0 }));
    series.sum += value;
    series.count++;
    for (let i = 0; i < this.buckets.length; i++) {
      if (value <= (this.buckets[i] as number)) {
        (series.counts[i] as number)++;
        break;
      }
    }
  }

  protected values(): MetricValue[] {
    const values: MetricValue[] = [];
    for (const [label, series] of this.series) {
      let cumulative = 0;
      this.buckets.forEach((le, i) => {
        cumulative += series.counts[i] as number;
        values.push({
          metricName: `${this.name}_bucket`,
          labels: { le: String(le), [this.labelName]: label },
          value: cumulative,
        });
      });
      values.push({
        metricName: `${this.name}_bucket`,
        labels: { le: '+Inf', [this.labelName]: label },
        value: series.count,
      });
      values.push({ metricName: `${this.name}_sum`, labels: { [this.labelName]: label }, value: series.sum });
      values.push({
        metricName: `${this.name}_count`,
        labels: { [this.labelName]: label },
        value: series.count,
      });
    }
    return values;
  }

  protected clear(): void {
    this.series.clear();
  }
}

/** A gauge with one label whose values are read from their source at each scrape. */
export class ComputedGauge extends FastMetric {
  constructor(
    name: string,
    help: string,
    private readonly labelName: string,
    private readonly read: () => Iterable<readonly [string, number]>,
  ) {
    super(name, help, 'gauge');
  }

  protected values(): MetricValue[] {
    const values: MetricValue[] = [];
    for (const [label, value] of this.read()) values.push({ labels: { [this.labelName]: label }, value });
    return values;
  }

  protected clear(): void {
    // Nothing is kept here: the source is read at each scrape.
  }
}
