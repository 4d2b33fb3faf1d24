// Medians, percentiles, the markdown table and the JSON of a benchmark run.
import type { ContenderId } from './contenders.ts';
import type { ControlPlaneFigures } from './control-plane-stats.ts';

/** The figures of one contender on one workload, one run. null: the phase did not run or complete. */
export interface RunFigures {
  contender: ContenderId;
  n: number;
  run: number;
  /** Process start to the contender's cache-synced line (the bare reader: its initial-events-end line). */
  cacheSyncedS: number | null;
  /** Process start to the first sync line of the last pod (controllers only). */
  allSyncedS: number | null;
  /** Events the bare reader read up to the bookmark (N pods + the bookmark). */
  readerEvents: number | null;
  /** VmHWM once every pod is synced and the heap probed, before any burst. */
  peakRssAtSyncMiB: number;
  /** VmRSS then, after the probe's full GC: what the process holds in a steady state. */
  rssAfterSyncMiB: number;
  /** V8's used heap after a full GC once every pod is synced (Node contenders). */
  heapAfterGcMiB: number | null;
  heapLimitMiB: number | null;
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
  /** VmHWM over the whole run, bursts and deletes included. */
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

/** A contender started on no pods: its start-up cost alone. */
export interface IdleFigures {
  contender: ContenderId;
  cacheSyncedS: number | null;
  rssMiB: number;
  peakRssMiB: number;
  heapAfterGcMiB: number | null;
  cpuS: number;
  problems: string[];
}

/** What holding N pods costs the control plane, read once the pods are created. */
export interface SizeFigures {
  n: number;
  /** Seconds to create the pods of this size that did not exist yet, with their status. */
  createS: number;
  createdPods: number;
  /** One pod as the API server serves it in JSON. */
  podJsonBytes: number;
  controlPlane: ControlPlaneFigures;
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
  /** What the in-cluster contender ran under: `512 MiB`, or `none (why)`; absent in older results. */
  inClusterMemoryLimit?: string;
}

export interface BenchResult {
  environment: Environment;
  sizes: number[];
  /** Runs of each contender, by N. */
  runsPerContender: Record<string, number>;
  contenders: ContenderId[];
  /** The largest N with a burst phase, and with a delete phase (pods then re-created). */
  burstUpTo: number;
  deletesUpTo: number;
  idle: Partial<Record<ContenderId, IdleFigures>>;
  sizeFigures: SizeFigures[];
  runs: RunFigures[];
  medians: Record<string, Partial<Record<ContenderId, Medians>>>;
  queue?: QueueComparison;
}

type NumericKey = {
  [K in keyof RunFigures]: RunFigures[K] extends number | null ? K : never;
}[keyof RunFigures];

const MEDIAN_KEYS = [
  'cacheSyncedS',
  'allSyncedS',
  'readerEvents',
  'peakRssAtSyncMiB',
  'rssAfterSyncMiB',
  'heapAfterGcMiB',
  'heapLimitMiB',
  'burstS',
  'burstP50Ms',
  'burstP99Ms',
  'burstClientP50Ms',
  'burstClientP99Ms',
  'burstStampP50Ms',
  'burstStampP99Ms',
  'deleteS',
  'peakRssMiB',
  'cpuS',
  'cpuInitialS',
  'requests',
  'connectionsPeak',
  'connectionsOpened',
] as const satisfies readonly NumericKey[];

export type Medians = { contender: ContenderId; n: number } & Record<
  (typeof MEDIAN_KEYS)[number],
  number | null
> & {
    /** Runs in which every phase that ran completed. */
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
  const figures = Object.fromEntries(MEDIAN_KEYS.map((k) => [k, medianOf(runs, (r) => r[k])])) as Record<
    (typeof MEDIAN_KEYS)[number],
    number | null
  >;
  return {
    contender: first.contender,
    n: first.n,
    ...figures,
    completedRuns: runs.filter((r) => r.problems.length === 0).length,
    requestsByVerb,
    metricsRequestsTotal: medianOf(runs, (r) => sum(r.metricsRequests)),
  };
}

export const LABELS: Record<ContenderId, string> = {
  'pod-sync-operator-in-cluster': 'pod-sync-operator, in-cluster (1)',
  'pod-sync-operator': 'pod-sync-operator, kubeconfig (1b)',
  'client-go-example': 'client-go example (2)',
  'client-node-baseline': 'client-node baseline (3)',
  'bare-reader': 'bare reader (0)',
};

function fmt(value: number | null | undefined, digits: number): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function ratioValue(ours: number | null | undefined, theirs: number | null | undefined): number | null {
  if (ours === null || ours === undefined || theirs === null || theirs === undefined) return null;
  if (!Number.isFinite(ours) || !Number.isFinite(theirs) || theirs <= 0) return null;
  return ours / theirs;
}

function ratio(ours: number | null | undefined, theirs: number | null | undefined): string {
  const r = ratioValue(ours, theirs);
  return r === null ? '—' : `${fmt(r, 2)}x`;
}

/** Bytes of V8 heap per cached pod: the heap after GC over N pods less the heap over none, over N. */
export function bytesPerPod(m: Medians | undefined, idle: IdleFigures | undefined): number | null {
  if (!m || m.heapAfterGcMiB === null || idle?.heapAfterGcMiB === null || idle === undefined) return null;
  return ((m.heapAfterGcMiB - idle.heapAfterGcMiB) * 2 ** 20) / m.n;
}

function table(header: string[], rows: string[][]): string[] {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ];
}

interface Target {
  what: string;
  sizes: readonly number[];
  /** The operator's rows it judges. */
  paths: readonly ContenderId[];
  value: (m: Medians) => number | null;
  against: ContenderId;
  max: number;
  /** Judged only where the burst ran. */
  burst?: true;
}

const OPERATOR_PATHS = ['pod-sync-operator-in-cluster', 'pod-sync-operator'] as const;

/** Issue 15's targets (and the burst target kept from the issues before it). */
const TARGETS: Target[] = [
  {
    what: 'start → every pod synced ≤ 1.0x client-go',
    sizes: [1_000],
    paths: ['pod-sync-operator-in-cluster'],
    value: (m) => m.allSyncedS,
    against: 'client-go-example',
    max: 1.0,
  },
  {
    what: 'peak RSS ≤ 1.5x client-go',
    sizes: [1_000],
    paths: ['pod-sync-operator-in-cluster'],
    value: (m) => m.peakRssAtSyncMiB,
    against: 'client-go-example',
    max: 1.5,
  },
  {
    what: 'start → every pod synced ≤ 1.0x client-go',
    sizes: [10_000, 50_000, 100_000],
    paths: OPERATOR_PATHS,
    value: (m) => m.allSyncedS,
    against: 'client-go-example',
    max: 1.0,
  },
  {
    what: 'peak RSS ≤ 1.0x client-go',
    sizes: [10_000],
    paths: OPERATOR_PATHS,
    value: (m) => m.peakRssAtSyncMiB,
    against: 'client-go-example',
    max: 1.0,
  },
  {
    what: 'peak RSS ≤ 0.3x client-go',
    sizes: [50_000, 100_000],
    paths: OPERATOR_PATHS,
    value: (m) => m.peakRssAtSyncMiB,
    against: 'client-go-example',
    max: 0.3,
  },
  {
    what: 'start → cache synced ≤ 1.2x the bare reader',
    sizes: [10_000],
    paths: OPERATOR_PATHS,
    value: (m) => m.cacheSyncedS,
    against: 'bare-reader',
    max: 1.2,
  },
  {
    what: 'burst latency p99 ≤ 1.2x client-go',
    sizes: [1_000, 10_000, 50_000, 100_000],
    paths: OPERATOR_PATHS,
    value: (m) => m.burstP99Ms,
    against: 'client-go-example',
    max: 1.2,
    burst: true,
  },
];

function targetRows(result: BenchResult): string[][] {
  const rows: string[][] = [];
  for (const target of TARGETS)
    for (const n of target.sizes) {
      if (!result.sizes.includes(n) || (target.burst && n > result.burstUpTo)) continue;
      const m = result.medians[String(n)] ?? {};
      const theirs = m[target.against];
      const cells = target.paths.map((path) => {
        const ours = m[path];
        const r = ratioValue(ours ? target.value(ours) : null, theirs ? target.value(theirs) : null);
        if (r === null) return 'n/a';
        return `${fmt(r, 2)}x ${r <= target.max + 1e-9 ? 'met' : '**missed**'}`;
      });
      const byPath = Object.fromEntries(target.paths.map((p, i) => [p, cells[i] ?? '']));
      rows.push([
        target.what,
        n.toLocaleString('en-US'),
        byPath['pod-sync-operator-in-cluster'] ?? '',
        byPath['pod-sync-operator'] ?? '',
      ]);
    }
  return rows;
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
  if (env.inClusterMemoryLimit !== undefined)
    out.push(
      `The in-cluster contender ran under a memory limit of ${env.inClusterMemoryLimit}, a memory cgroup ` +
        "(bench/cgroup.ts; the Deployment's `resources.limits.memory` unless `--in-cluster-memory-limit` " +
        "says otherwise), from which Node sizes V8's heap as in a pod.",
      '',
    );
  const contenders = result.contenders;
  if (result.sizes.length > 0) {
    out.push('### Start-up on no pods', '');
    out.push(
      ...table(
        ['contender', 'start → cache synced (s)', 'RSS (MiB)', 'V8 heap after GC (MiB)', 'CPU (s)'],
        contenders.map((c) => {
          const idle = result.idle[c];
          return [
            LABELS[c],
            fmt(idle?.cacheSyncedS, 2),
            fmt(idle?.rssMiB, 1),
            fmt(idle?.heapAfterGcMiB, 1),
            fmt(idle?.cpuS, 2),
          ];
        }),
      ),
      '',
    );
  }
  for (const n of result.sizes) {
    const m = result.medians[String(n)] ?? {};
    const go = m['client-go-example'];
    const reader = m['bare-reader'];
    const size = result.sizeFigures.find((f) => f.n === n);
    const runs = result.runsPerContender[String(n)] ?? 1;
    // Above 50,000 pods only --large-contenders run.
    const here = contenders.filter((c) => m[c] !== undefined);
    out.push(
      `### N = ${n.toLocaleString('en-US')} pods (${runs === 1 ? 'one run' : `medians of ${runs} runs`} each; runs without a problem: ${here.map((c) => `${c} ${m[c]?.completedRuns ?? 0}`).join(', ')})`,
      '',
    );
    if (size)
      out.push(
        `The pods were created once for this size (${size.createdPods.toLocaleString('en-US')} new, ${fmt(size.createS, 1)} s) and every contender started on them in turn; one pod is ${fmt(size.podJsonBytes / 1024, 1)} KiB of JSON as served.`,
        '',
      );
    out.push(
      ...table(
        [
          'initial sync',
          'start → cache synced (s)',
          '÷ (0)',
          'start → every pod synced (s)',
          '÷ (2)',
          'peak RSS (MiB)',
          '÷ (2)',
          'RSS after sync (MiB)',
          'V8 heap after GC (MiB)',
          'heap bytes per pod',
          'CPU until synced (s)',
          '÷ (2)',
        ],
        here.map((c) => {
          const x = m[c];
          return [
            LABELS[c],
            fmt(x?.cacheSyncedS, 2),
            ratio(x?.cacheSyncedS, reader?.cacheSyncedS),
            fmt(x?.allSyncedS, 2),
            ratio(x?.allSyncedS, go?.allSyncedS),
            fmt(x?.peakRssAtSyncMiB, 1),
            ratio(x?.peakRssAtSyncMiB, go?.peakRssAtSyncMiB),
            fmt(x?.rssAfterSyncMiB, 1),
            fmt(x?.heapAfterGcMiB, 1),
            fmt(bytesPerPod(x, result.idle[c]), 0),
            fmt(x?.cpuInitialS, 2),
            ratio(x?.cpuInitialS, go?.cpuInitialS),
          ];
        }),
      ),
      '',
    );
    if (n <= result.burstUpTo) {
      out.push(
        `Then a burst of ${n.toLocaleString('en-US')} readiness changes (one per pod)${n <= result.deletesUpTo ? ` and ${n.toLocaleString('en-US')} deletes (the pods are then created again for the next contender)` : ''}; the bare reader takes no part.`,
        '',
        ...table(
          [
            'burst and deletes',
            'burst: first update → last sync (s)',
            "latency p50 / p99 from the API server's response (ms)",
            'p99 ÷ (2)',
            'p99 from the harness receiving the response (ms)',
            'p99 to the time written in the line (ms)',
            'deletes: first delete → last sync (s)',
            'peak RSS, whole run (MiB)',
            'CPU, whole run (s)',
            'requests (audit log)',
            'read requests (apiserver_request_total)',
            'connections peak / distinct',
          ],
          here
            .filter((c) => c !== 'bare-reader')
            .map((c) => {
              const x = m[c];
              return [
                LABELS[c],
                fmt(x?.burstS, 2),
                x ? `${fmt(x.burstP50Ms, 1)} / ${fmt(x.burstP99Ms, 1)}` : '—',
                ratio(x?.burstP99Ms, go?.burstP99Ms),
                fmt(x?.burstClientP99Ms, 1),
                fmt(x?.burstStampP99Ms, 1),
                fmt(x?.deleteS, 2),
                fmt(x?.peakRssMiB, 1),
                fmt(x?.cpuS, 2),
                x
                  ? `${fmt(x.requests, 0)} (${Object.entries(x.requestsByVerb)
                      .map(([v, k]) => `${v} ${fmt(k, 0)}`)
                      .join(', ')})`
                  : '—',
                fmt(x?.metricsRequestsTotal, 0),
                x ? `${fmt(x.connectionsPeak, 0)} / ${fmt(x.connectionsOpened, 0)}` : '—',
              ];
            }),
        ),
        '',
      );
    }
  }
  if (result.sizes.length > 0) {
    const heapRows = contenders
      .filter((c) => result.idle[c]?.heapAfterGcMiB !== null && result.idle[c] !== undefined)
      .map((c) => [
        LABELS[c],
        fmt(result.idle[c]?.heapAfterGcMiB, 1),
        ...result.sizes.map((n) => {
          const x = result.medians[String(n)]?.[c];
          return `${fmt(x?.heapAfterGcMiB, 1)} (${fmt(bytesPerPod(x, result.idle[c]), 0)})`;
        }),
      ]);
    out.push(
      '### Memory by pod count: V8 heap after a full GC in MiB, once every pod is synced (bytes per cached pod)',
      '',
      ...table(
        ['contender', 'no pods', ...result.sizes.map((n) => `N = ${n.toLocaleString('en-US')}`)],
        heapRows,
      ),
      '',
      '### The control plane holding the pods (read once they are created)',
      '',
      ...table(
        [
          'N',
          'pod JSON (KiB)',
          'create (s)',
          'kube-apiserver RSS / peak (MiB)',
          'etcd RSS / peak (MiB)',
          'etcd database / in use (MiB)',
        ],
        result.sizeFigures.map((f) => [
          f.n.toLocaleString('en-US'),
          fmt(f.podJsonBytes / 1024, 1),
          fmt(f.createS, 1),
          `${fmt(f.controlPlane.apiServerRssMiB, 0)} / ${fmt(f.controlPlane.apiServerPeakRssMiB, 0)}`,
          `${fmt(f.controlPlane.etcdRssMiB, 0)} / ${fmt(f.controlPlane.etcdPeakRssMiB, 0)}`,
          `${fmt(f.controlPlane.etcdDbMiB, 0)} / ${fmt(f.controlPlane.etcdDbInUseMiB, 0)}`,
        ]),
      ),
      '',
    );
    const targets = targetRows(result);
    if (targets.length > 0)
      out.push(
        "### Targets (issue 15; the burst target from the issues before), the operator's ratio against the named contender",
        '',
        ...table(
          ['target', 'N', LABELS['pod-sync-operator-in-cluster'], LABELS['pod-sync-operator']],
          targets,
        ),
        '',
      );
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
