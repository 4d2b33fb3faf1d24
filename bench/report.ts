// Medians, percentiles, the markdown table and the JSON of a benchmark run.
import type { ContenderId } from './contenders.ts';

/** The figures of one contender on one workload, one run. null: the phase did not complete. */
export interface RunFigures {
  contender: ContenderId;
  n: number;
  run: number;
  /** Process start to the contender's cache-synced line. */
  cacheSyncedS: number | null;
  /** Process start to the first sync line of the last pod. */
  allSyncedS: number | null;
  /** First update sent to the last pod's sync line. */
  burstS: number | null;
  /** Latency from each update's response to the pod's next sync line. */
  burstP50Ms: number | null;
  burstP99Ms: number | null;
  /** The same from the update's response as the harness received it (its load thread may lag). */
  burstClientP50Ms: number | null;
  burstClientP99Ms: number | null;
  /** The same to the time the contender wrote in its line (ms precision), for contenders that write one. */
  burstStampP50Ms: number | null;
  burstStampP99Ms: number | null;
  /** First delete sent to the last pod's gone line. */
  deleteS: number | null;
  peakRssMiB: number;
  cpuS: number;
  /** CPU seconds spent until every pod was synced once. */
  cpuInitialS: number | null;
  /** Requests in the audit log with the contender's user agent. */
  requests: number;
  requestsByVerb: Record<string, number>;
  userAgents: string[];
  /** Read requests by apiserver_request_total, "VERB resource". */
  metricsRequests: Record<string, number>;
  connectionsPeak: number;
  connectionsOpened: number;
  exit: string;
  problems: string[];
}

export interface QueueFigures {
  addNsPerKey: number;
  getNsPerKey: number;
  doneNsPerKey: number;
  bytesPerQueuedKey: number;
}

export interface QueueComparison {
  ours: { queue: QueueFigures; rateLimitingQueue: Omit<QueueFigures, 'bytesPerQueuedKey'> };
  clientGo: { queue: QueueFigures; rateLimitingQueue: Omit<QueueFigures, 'bytesPerQueuedKey'> };
  runs: number;
}

export interface Environment {
  date: string;
  command: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  go: string;
  kubernetes: string;
  loadAverageStart: number[];
  loadAverageEnd: number[];
  /** Load averages sampled before each contender run. */
  loadAverageSamples: number[];
  durationS: number;
}

export interface BenchResult {
  environment: Environment;
  sizes: number[];
  /** Runs of each contender, by N. */
  runsPerContender: Record<string, number>;
  contenders: ContenderId[];
  runs: RunFigures[];
  medians: Record<string, Partial<Record<ContenderId, Medians>>>;
  queue?: QueueComparison;
}

export type Medians = Omit<
  RunFigures,
  'run' | 'requestsByVerb' | 'userAgents' | 'metricsRequests' | 'problems' | 'exit'
> & {
  completedRuns: number;
  requestsByVerb: Record<string, number>;
  metricsRequestsTotal: number | null;
};

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Nearest-rank percentile, p in [0, 100]. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

function medianOf(runs: readonly RunFigures[], pick: (r: RunFigures) => number | null): number | null {
  return median(runs.map(pick).filter((v): v is number => v !== null && Number.isFinite(v)));
}

export function mediansOf(runs: readonly RunFigures[]): Medians | undefined {
  const first = runs[0];
  if (!first) return undefined;
  const verbs = new Set(runs.flatMap((r) => Object.keys(r.requestsByVerb)));
  const requestsByVerb: Record<string, number> = {};
  for (const verb of [...verbs].sort())
    requestsByVerb[verb] = medianOf(runs, (r) => r.requestsByVerb[verb] ?? 0) ?? 0;
  const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);
  return {
    contender: first.contender,
    n: first.n,
    completedRuns: runs.filter((r) => r.deleteS !== null && r.burstS !== null && r.allSyncedS !== null)
      .length,
    cacheSyncedS: medianOf(runs, (r) => r.cacheSyncedS),
    allSyncedS: medianOf(runs, (r) => r.allSyncedS),
    burstS: medianOf(runs, (r) => r.burstS),
    burstP50Ms: medianOf(runs, (r) => r.burstP50Ms),
    burstP99Ms: medianOf(runs, (r) => r.burstP99Ms),
    burstClientP50Ms: medianOf(runs, (r) => r.burstClientP50Ms),
    burstClientP99Ms: medianOf(runs, (r) => r.burstClientP99Ms),
    burstStampP50Ms: medianOf(runs, (r) => r.burstStampP50Ms),
    burstStampP99Ms: medianOf(runs, (r) => r.burstStampP99Ms),
    deleteS: medianOf(runs, (r) => r.deleteS),
    peakRssMiB: medianOf(runs, (r) => r.peakRssMiB) ?? Number.NaN,
    cpuS: medianOf(runs, (r) => r.cpuS) ?? Number.NaN,
    cpuInitialS: medianOf(runs, (r) => r.cpuInitialS),
    requests: medianOf(runs, (r) => r.requests) ?? Number.NaN,
    requestsByVerb,
    metricsRequestsTotal: medianOf(runs, (r) => sum(r.metricsRequests)),
    connectionsPeak: medianOf(runs, (r) => r.connectionsPeak) ?? Number.NaN,
    connectionsOpened: medianOf(runs, (r) => r.connectionsOpened) ?? Number.NaN,
  };
}

const LABELS: Record<ContenderId, string> = {
  'pod-sync-operator': 'pod-sync-operator (1)',
  'client-go-example': 'client-go example (2)',
  'client-node-baseline': 'client-node baseline (3)',
};

function fmt(value: number | null | undefined, digits: number): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function ratio(ours: number | null | undefined, theirs: number | null | undefined): string {
  if (ours === null || ours === undefined || theirs === null || theirs === undefined) return '—';
  if (!Number.isFinite(ours) || !Number.isFinite(theirs) || theirs <= 0) return '—';
  return `${fmt(ours / theirs, 2)}x`;
}

interface Row {
  figure: string;
  value: (m: Medians) => number | null;
  digits: number;
  show?: (m: Medians) => string;
  /** Target as a maximum ratio against the Go example, and for requests and connections "< baseline". */
  target?: { maxVsGo: number; fewerThanBaseline?: boolean; onlyAt?: number };
}

const ROWS: Row[] = [
  { figure: 'start → cache synced (s)', value: (m) => m.cacheSyncedS, digits: 2 },
  {
    figure: 'start → every pod synced once (s)',
    value: (m) => m.allSyncedS,
    digits: 2,
    target: { maxVsGo: 1.0, onlyAt: 10_000 },
  },
  { figure: 'burst: first update → last sync (s)', value: (m) => m.burstS, digits: 2 },
  { figure: "burst latency p50, from the API server's response (ms)", value: (m) => m.burstP50Ms, digits: 1 },
  {
    figure: "burst latency p99, from the API server's response (ms)",
    value: (m) => m.burstP99Ms,
    digits: 1,
    target: { maxVsGo: 1.2 },
  },
  {
    figure: 'burst latency p50, from the harness receiving the response (ms)',
    value: (m) => m.burstClientP50Ms,
    digits: 1,
  },
  {
    figure: 'burst latency p99, from the harness receiving the response (ms)',
    value: (m) => m.burstClientP99Ms,
    digits: 1,
  },
  {
    figure: 'burst latency p50 / p99, to the time written in the line (ms)',
    value: (m) => m.burstStampP99Ms,
    digits: 1,
    show: (m) =>
      m.burstStampP99Ms === null ? '—' : `${fmt(m.burstStampP50Ms, 1)} / ${fmt(m.burstStampP99Ms, 1)}`,
  },
  { figure: 'deletes: first delete → last sync (s)', value: (m) => m.deleteS, digits: 2 },
  {
    figure: 'peak RSS (MiB)',
    value: (m) => m.peakRssMiB,
    digits: 1,
    target: { maxVsGo: 1.5, onlyAt: 10_000 },
  },
  { figure: 'CPU until every pod synced (s)', value: (m) => m.cpuInitialS, digits: 2 },
  { figure: 'CPU, whole run (s)', value: (m) => m.cpuS, digits: 2 },
  {
    figure: 'requests sent (audit log, by user agent)',
    value: (m) => m.requests,
    digits: 0,
    show: (m) =>
      `${fmt(m.requests, 0)} (${Object.entries(m.requestsByVerb)
        .map(([v, c]) => `${v} ${fmt(c, 0)}`)
        .join(', ')})`,
    target: { maxVsGo: 1.0, fewerThanBaseline: true },
  },
  { figure: 'read requests (apiserver_request_total diff)', value: (m) => m.metricsRequestsTotal, digits: 0 },
  {
    figure: 'connections open (peak)',
    value: (m) => m.connectionsPeak,
    digits: 0,
    target: { maxVsGo: 1.0, fewerThanBaseline: true },
  },
  {
    figure: 'connections opened (distinct, sampled every 250 ms)',
    value: (m) => m.connectionsOpened,
    digits: 0,
  },
];

function verdict(
  row: Row,
  n: number,
  ours: Medians | undefined,
  go: Medians | undefined,
  base: Medians | undefined,
): string {
  const t = row.target;
  if (!t || (t.onlyAt !== undefined && t.onlyAt !== n)) return '';
  const o = ours ? row.value(ours) : null;
  const g = go ? row.value(go) : null;
  const b = base ? row.value(base) : null;
  if (o === null || g === null || !Number.isFinite(o) || !Number.isFinite(g)) return 'n/a';
  const okGo = g > 0 ? o / g <= t.maxVsGo + 1e-9 : o <= g;
  const okBase = !t.fewerThanBaseline || (b !== null && o < b);
  const want = `≤ ${fmt(t.maxVsGo, 1)}x Go${t.fewerThanBaseline ? ', < (3)' : ''}`;
  return `${okGo && okBase ? 'met' : '**missed**'} (${want})`;
}

export function markdown(result: BenchResult): string {
  const out: string[] = [];
  const env = result.environment;
  out.push(
    `Run ${env.date} on ${env.cpu}, ${env.cores} cores, ${fmt(env.memoryGiB, 0)} GiB, Linux ${env.kernel}; ` +
      `Node ${env.node}, ${env.go}, Kubernetes ${env.kubernetes} (local control plane). ` +
      `Load average (1 min) ${fmt(env.loadAverageStart[0], 2)} at the start, ${fmt(env.loadAverageEnd[0], 2)} at the end, ` +
      `${fmt(median(env.loadAverageSamples), 2)} median before each contender run; ${fmt(env.durationS / 60, 1)} min in all.`,
    '',
    `Command: \`${env.command}\``,
    '',
  );
  for (const n of result.sizes) {
    const m = result.medians[String(n)] ?? {};
    const ours = m['pod-sync-operator'];
    const go = m['client-go-example'];
    const base = m['client-node-baseline'];
    const runs = Math.max(...Object.values(m).map((x) => x.completedRuns));
    out.push(
      `### N = ${n.toLocaleString('en-US')} pods (${result.runsPerContender[String(n)] === 1 ? 'one run' : `medians of ${result.runsPerContender[String(n)]} runs`} each; complete runs: ${result.contenders.map((c) => `${c} ${m[c]?.completedRuns ?? 0}`).join(', ')})`,
      '',
    );
    if (runs === 0) out.push('_No run completed._', '');
    const header = ['figure', ...result.contenders.map((c) => LABELS[c]), '(1) / (2)', '(1) / (3)', 'target'];
    out.push(
      `| ${header.join(' | ')} |`,
      `| ${header.map((_, i) => (i === 0 || i === header.length - 1 ? '---' : '---:')).join(' | ')} |`,
    );
    for (const row of ROWS) {
      const cells = result.contenders.map((c) => {
        const x = m[c];
        if (!x) return '—';
        return row.show ? row.show(x) : fmt(row.value(x), row.digits);
      });
      const o = ours ? row.value(ours) : null;
      out.push(
        `| ${[row.figure, ...cells, ratio(o, go ? row.value(go) : null), ratio(o, base ? row.value(base) : null), verdict(row, n, ours, go, base)].join(' | ')} |`,
      );
    }
    out.push('');
  }
  const q = result.queue;
  if (q) {
    out.push(
      `### Work queue microbenchmark (medians of ${q.runs} runs; batches of 1,000 keys added, taken, marked done)`,
      '',
    );
    out.push(
      '| figure | pod-sync-operator `Queue` | client-go `workqueue` | throughput ratio | target |',
      '| --- | ---: | ---: | ---: | --- |',
    );
    const rows: [string, number, number][] = [
      ['add (ns/key)', q.ours.queue.addNsPerKey, q.clientGo.queue.addNsPerKey],
      ['get (ns/key)', q.ours.queue.getNsPerKey, q.clientGo.queue.getNsPerKey],
      ['done (ns/key)', q.ours.queue.doneNsPerKey, q.clientGo.queue.doneNsPerKey],
    ];
    const cycle = (f: Omit<QueueFigures, 'bytesPerQueuedKey'>): number =>
      f.addNsPerKey + f.getNsPerKey + f.doneNsPerKey;
    for (const [name, ours, go] of rows)
      out.push(`| ${name} | ${fmt(ours, 1)} | ${fmt(go, 1)} | ${ratio(go, ours)} | |`);
    const oursCycle = cycle(q.ours.queue);
    const goCycle = cycle(q.clientGo.queue);
    out.push(
      `| add + get + done (keys/s) | ${fmt(1e9 / oursCycle, 0)} | ${fmt(1e9 / goCycle, 0)} | ${ratio(goCycle, oursCycle)} | ${goCycle / oursCycle >= 0.5 ? 'met' : '**missed**'} (≥ 0.5x) |`,
    );
    const oursRl = cycle(q.ours.rateLimitingQueue);
    const goRl = cycle(q.clientGo.rateLimitingQueue);
    out.push(
      `| rate-limiting queue, add + get + forget + done (keys/s) | ${fmt(1e9 / oursRl, 0)} | ${fmt(1e9 / goRl, 0)} | ${ratio(goRl, oursRl)} | |`,
      `| memory per queued key (bytes) | ${fmt(q.ours.queue.bytesPerQueuedKey, 1)} | ${fmt(q.clientGo.queue.bytesPerQueuedKey, 1)} | ${ratio(q.ours.queue.bytesPerQueuedKey, q.clientGo.queue.bytesPerQueuedKey)} (size) | |`,
      '',
    );
  }
  return out.join('\n');
}
