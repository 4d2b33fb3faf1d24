import { Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FakeClock, metricValue, type Labels } from '../testing/index.ts';
import { UNFINISHED_WORK_UPDATE_PERIOD_MS } from './defaults.ts';
import { PrometheusMetricsProvider, WORKQUEUE_DURATION_BUCKETS } from './prometheus-metrics.ts';
import { Queue } from './queue.ts';
import { RateLimitingQueue } from './rate-limiting-queue.ts';
import { ItemExponentialFailureRateLimiter } from './rate-limiters.ts';

const NAMES = [
  'workqueue_depth',
  'workqueue_adds_total',
  'workqueue_queue_duration_seconds',
  'workqueue_work_duration_seconds',
  'workqueue_unfinished_work_seconds',
  'workqueue_longest_running_processor_seconds',
  'workqueue_retries_total',
];

/** The JSON of one metric family, for its label sets and series. */
async function family(
  registry: Registry,
  name: string,
): Promise<MetricObjectWithValues<MetricValue<string>>> {
  const found = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  if (!found) throw new Error(`${name} is not registered`);
  return found;
}

function setup() {
  const clock = new FakeClock();
  const registry = new Registry();
  const queue = new RateLimitingQueue({
    name: 'pods',
    clock,
    metricsProvider: new PrometheusMetricsProvider(registry),
    rateLimiter: new ItemExponentialFailureRateLimiter(5, 1_000),
  });
  return { clock, registry, queue };
}

describe('PrometheusMetricsProvider', () => {
  it("registers controller-runtime's names, types and help strings once per registry", async () => {
    const { registry } = setup();
    // A second provider on the same registry, for another queue, reuses the same metric objects.
    const other = new Queue({ name: 'nodes', metricsProvider: new PrometheusMetricsProvider(registry) });
    other.shutDown();
    const metrics = await registry.getMetricsAsJSON();
    expect(metrics.map((m) => m.name).sort()).toEqual([...NAMES].sort());
    const types = Object.fromEntries(metrics.map((m) => [m.name, m.type]));
    expect(types).toEqual({
      workqueue_depth: 'gauge',
      workqueue_adds_total: 'counter',
      workqueue_queue_duration_seconds: 'histogram',
      workqueue_work_duration_seconds: 'histogram',
      workqueue_unfinished_work_seconds: 'gauge',
      workqueue_longest_running_processor_seconds: 'gauge',
      workqueue_retries_total: 'counter',
    });
    const help = Object.fromEntries(metrics.map((m) => [m.name, m.help]));
    expect(help.workqueue_adds_total).toBe('Total number of adds handled by workqueue');
    expect(help.workqueue_queue_duration_seconds).toBe(
      'How long in seconds an item stays in workqueue before being requested',
    );
    expect(help.workqueue_retries_total).toMatch(
      /^Total number of items added to the workqueue with a non-zero delay/,
    );
  });

  it('labels every series with name and controller set to the queue name', async () => {
    const { registry } = setup();
    new Queue({ name: 'nodes', metricsProvider: new PrometheusMetricsProvider(registry) }).shutDown();
    const depth = await family(registry, 'workqueue_depth');
    expect(depth.values.map((v) => v.labels)).toEqual([
      { name: 'pods', controller: 'pods' },
      { name: 'nodes', controller: 'nodes' },
    ]);
    expect(await registry.metrics()).toContain('workqueue_adds_total{name="pods",controller="pods"} 0');
  });

  it('uses 12 duration buckets from 1e-8 s to 1e3 s by factor 10, matching Go bit for bit', async () => {
    expect(WORKQUEUE_DURATION_BUCKETS).toHaveLength(12);
    WORKQUEUE_DURATION_BUCKETS.forEach((bound, i) => {
      expect(Math.abs(bound / 10 ** (i - 8) - 1)).toBeLessThan(1e-12);
    });
    // Go's ExponentialBuckets multiplies step by step too, which gives this very value for 1e-5.
    expect(WORKQUEUE_DURATION_BUCKETS[3]).toBe(0.000009999999999999999);

    const { registry, queue, clock } = setup();
    queue.add('a');
    clock.step(1);
    await queue.get();
    queue.done('a');
    for (const name of ['workqueue_queue_duration_seconds', 'workqueue_work_duration_seconds']) {
      const bounds = (await family(registry, name)).values
        .filter((v) => (v as { metricName?: string }).metricName === `${name}_bucket`)
        .map((v) => v.labels.le);
      expect(bounds).toEqual([...WORKQUEUE_DURATION_BUCKETS, '+Inf']);
    }
  });

  it('records depth, adds, retries, queue and work durations through a scenario', async () => {
    const { registry, queue, clock } = setup();
    const value = async (series: string, labels: Labels = {}) =>
      metricValue(await registry.metrics(), series, { name: 'pods', ...labels });

    queue.add('a');
    queue.add('b');
    queue.add('a');
    expect(await value('workqueue_adds_total')).toBe(2);
    expect(await value('workqueue_depth')).toBe(2);

    clock.step(2_000);
    const got = await queue.get();
    expect(got.item).toBe('a');
    expect(await value('workqueue_depth')).toBe(1);
    expect(await value('workqueue_queue_duration_seconds_count')).toBe(1);
    expect(await value('workqueue_queue_duration_seconds_sum')).toBe(2);
    expect(await value('workqueue_queue_duration_seconds_bucket', { le: '1' })).toBe(0);
    expect(await value('workqueue_queue_duration_seconds_bucket', { le: '10' })).toBe(1);

    // Adding a key being processed makes it pending again: it counts as an add and in the depth.
    queue.add('a');
    expect(await value('workqueue_adds_total')).toBe(3);
    expect(await value('workqueue_depth')).toBe(2);

    clock.step(3_000);
    expect(await value('workqueue_unfinished_work_seconds')).toBe(3);
    expect(await value('workqueue_longest_running_processor_seconds')).toBe(3);
    queue.done('a');
    expect(await value('workqueue_work_duration_seconds_sum')).toBe(3);
    expect(await value('workqueue_work_duration_seconds_count')).toBe(1);
    clock.step(UNFINISHED_WORK_UPDATE_PERIOD_MS);
    expect(await value('workqueue_unfinished_work_seconds')).toBe(0);

    // A zero delay is an immediate add, not a retry; a real delay is a retry, and an add once due.
    queue.addAfter('c', 0);
    expect(await value('workqueue_retries_total')).toBe(0);
    expect(await value('workqueue_adds_total')).toBe(4);
    queue.addRateLimited('d');
    queue.addAfter('e', 100);
    expect(await value('workqueue_retries_total')).toBe(2);
    expect(await value('workqueue_adds_total')).toBe(4);
    clock.step(5);
    expect(await value('workqueue_adds_total')).toBe(5);
    expect(await value('workqueue_depth')).toBe(4);
    expect(queue.len()).toBe(4);
  });

  it('keeps the series of queues with different names apart', async () => {
    const { registry, queue } = setup();
    const nodes = new Queue({ name: 'nodes', metricsProvider: new PrometheusMetricsProvider(registry) });
    queue.add('a');
    nodes.add('x');
    nodes.add('y');
    expect(metricValue(await registry.metrics(), 'workqueue_adds_total', { name: 'pods' })).toBe(1);
    expect(metricValue(await registry.metrics(), 'workqueue_adds_total', { name: 'nodes' })).toBe(2);
    nodes.shutDown();
  });

  it('refreshes the unfinished-work gauges on the injected clock, and stops on shutdown', () => {
    const { queue, clock } = setup();
    expect(clock.pendingTimers()).toBe(1);
    queue.shutDown();
    expect(clock.pendingTimers()).toBe(0);
    // Without a name or a provider there is nothing to refresh.
    new Queue({ clock, name: 'unrecorded' }).add('a');
    new Queue({ clock, metricsProvider: new PrometheusMetricsProvider(new Registry()) }).add('a');
    expect(clock.pendingTimers()).toBe(0);
  });
});
