/** Labels a sample must carry (it may carry others). */
export type Labels = Record<string, string>;

/** One sample of a series: its labels and its value. */
export interface Sample {
  labels: Labels;
  value: number;
}

/**
 * The samples named `name` whose labels include `labels`, in the order of the text, from Prometheus
 * text exposition: a scrape of /metrics, or `await registry.metrics()` of a prom-client Registry. A
 * histogram's series are `<name>_bucket` (with `le`), `<name>_sum` and `<name>_count`.
 */
export function metricSeries(text: string, name: string, labels: Labels = {}): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have: Labels = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      have[l[1] ?? ''] = l[2] ?? '';
    }
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) {
      samples.push({ labels: have, value: sampleValue(m[3] ?? '') });
    }
  }
  return samples;
}

/** The values of the matching samples (see metricSeries). */
export function metricSamples(text: string, name: string, labels: Labels = {}): number[] {
  return metricSeries(text, name, labels).map((s) => s.value);
}

/** The first matching sample, or undefined when there is none. */
export function metricValue(text: string, name: string, labels: Labels = {}): number | undefined {
  return metricSamples(text, name, labels)[0];
}

/** The sum of the matching samples; 0 when there are none. */
export function metricSum(text: string, name: string, labels: Labels = {}): number {
  return metricSamples(text, name, labels).reduce((a, b) => a + b, 0);
}

function sampleValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}
