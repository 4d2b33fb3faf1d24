/** Labels a sample must carry (it may carry others). */
export type Labels = Record<string, string>;

/**
 * The values of the samples named `name` whose labels include `labels`, from Prometheus text
 * exposition: a scrape of /metrics, or `await registry.metrics()` of a prom-client Registry. A
 * histogram's series are `<name>_bucket` (with `le`), `<name>_sum` and `<name>_count`.
 */
export function metricSamples(text: string, name: string, labels: Labels = {}): number[] {
  const values: number[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = new Map<string, string>();
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      have.set(l[1] ?? '', l[2] ?? '');
    }
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) values.push(sampleValue(m[3] ?? ''));
  }
  return values;
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
