// `make bench` / `npm run bench`: pod-sync-operator (in-cluster, and from a kubeconfig) against
// client-go's workqueue example, a client-node baseline and a bare reader (one streamed list, nothing
// else), on the same local kube-apiserver, one contender at a time on pods created once per size; then
// the work-queue microbenchmark against client-go's workqueue. See bench/README.md.
//
//   node bench/run.ts [--sizes 1000,10000] [--with-50k] [--with-100k] [--runs 3] [--contenders a,b,c]
//                     [--large-contenders a,b] [--burst-up-to N] [--deletes-up-to N]
//                     [--skip-queue | --queue-only] [--update-readme] [--cpu-prof]
//                     [--operator-node-args '--max-semi-space-size=16'] [--bare-reader-as service-account]
//                     [--in-cluster-memory-limit deployment|768Mi|none]
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { ControlPlane } from '../hack/cluster/control-plane.ts';
import {
  ApiServerMetrics,
  auditArgs,
  countAudit,
  fileSize,
  readRequestsBetween,
  statusPatchResponses,
} from './apiserver.ts';
import {
  CONTENDER_IDS,
  contenderSpecs,
  RunningContender,
  type ContenderId,
  type ContenderSpec,
} from './contenders.ts';
import { controlPlaneFigures, defragmentEtcd } from './control-plane-stats.ts';
import { quantityBytes } from './cgroup.ts';
import { setUpInCluster } from './in-cluster.ts';
import type { LoadRequest, LoadResponse } from './load-worker.ts';
import type { QueueBenchResult } from './queue-bench.ts';
import {
  markdown,
  median,
  mediansOf,
  percentile,
  type BenchResult,
  type Environment,
  type IdleFigures,
  type Medians,
  type QueueComparison,
  type QueueFigures,
  type RunFigures,
} from './report.ts';
import { LOAD_USER_AGENT, nowMs, type ApiServerAccess, type Owner, type Timed } from './workload.ts';

const repo = fileURLToPath(new URL('..', import.meta.url));
const POD_PREFIX = 'bench-app-';
const MAX_PODS = 100_000;
/**
 * etcd's database limit for the bench's private etcd: 8 GiB, etcd's documented maximum suggestion. The
 * default 2 GiB holds 100,000 of these pods (about 2.5 KiB each in etcd) with a few revisions each,
 * but bursts write a revision per pod per contender faster than the API server's 5-minute compaction
 * frees them; the harness also compacts and defragments between sizes.
 */
const ETCD_QUOTA_BYTES = 8 * 2 ** 30;

const { values: flags } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,10000' },
    'with-50k': { type: 'boolean', default: false },
    'with-100k': { type: 'boolean', default: false },
    runs: { type: 'string', default: '3' },
    contenders: { type: 'string', default: CONTENDER_IDS.join(',') },
    /**
     * Of those, the ones run above 50,000 pods. Not the client-node baseline by default: it lists
     * unpaginated, and 100,000 of these pods are 800 MB of JSON, past V8's longest string (512 MiB).
     */
    'large-contenders': {
      type: 'string',
      default: CONTENDER_IDS.filter((c) => c !== 'client-node-baseline').join(','),
    },
    /** The largest N at which each contender gets a burst of N readiness changes. */
    'burst-up-to': { type: 'string', default: String(MAX_PODS) },
    /** The largest N at which each contender gets N deletes (then the pods are created again). */
    'deletes-up-to': { type: 'string', default: '1000' },
    'skip-queue': { type: 'boolean', default: false },
    'queue-only': { type: 'boolean', default: false },
    'queue-seconds': { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '32' },
    out: { type: 'string', default: join(repo, 'bench', 'results') },
    'update-readme': { type: 'boolean', default: false },
    /** Writes a V8 CPU profile of each pod-sync-operator run into <out>/profiles (open in DevTools). */
    'cpu-prof': { type: 'boolean', default: false },
    /**
     * Whose token the bare reader sends: `admin` (system:masters, API Priority and Fairness's exempt
     * level, as client-go's example and the kubeconfig contender) or `service-account` (the in-cluster
     * contender's ServiceAccount, whose requests APF queues at workload-low). Experiments only.
     */
    'bare-reader-as': { type: 'string', default: 'admin' },
    /**
     * `deployment`: the in-cluster contender runs in a memory cgroup of the Deployment's memory limit,
     * as the kubelet would run it (bench/cgroup.ts); a quantity (`768Mi`): that limit instead, as
     * docs/sizing.md sets it for more pods; `none`: without a limit.
     */
    'in-cluster-memory-limit': { type: 'string', default: 'deployment' },
    /** More Node flags for both pod-sync-operator contenders, space-separated (experiments only). */
    'operator-node-args': { type: 'string', default: '' },
  },
});

const sizes = flags.sizes.split(',').map(Number);
if (flags['with-50k'] && !sizes.includes(50_000)) sizes.push(50_000);
if (flags['with-100k'] && !sizes.includes(100_000)) sizes.push(100_000);
if (sizes.some((n) => !Number.isInteger(n) || n < 1 || n > MAX_PODS))
  throw new Error(`--sizes: 1 to ${MAX_PODS} each, got ${sizes.join(',')}`);
// Pods are created once per size and added to for the next: smallest first.
const runOrder = [...sizes].sort((a, b) => a - b);
// One count for every size, or one per size in the order of --sizes (e.g. --runs 3,1).
const runCounts = flags.runs.split(',').map(Number);
if (runCounts.some((r) => !Number.isInteger(r) || r < 1))
  throw new Error(`--runs: positive integers, got ${flags.runs}`);
const runsFor = (n: number): number => runCounts[Math.min(sizes.indexOf(n), runCounts.length - 1)] ?? 1;
const concurrency = Number(flags.concurrency);
const burstUpTo = Number(flags['burst-up-to']);
const deletesUpTo = Number(flags['deletes-up-to']);
const contenders = flags.contenders.split(',') as ContenderId[];
const largeContenders = flags['large-contenders'].split(',') as ContenderId[];
const memoryLimitFlag = flags['in-cluster-memory-limit'];
const memoryLimitOverride = ['deployment', 'none'].includes(memoryLimitFlag)
  ? undefined
  : quantityBytes(memoryLimitFlag);
/** The memory limit the in-cluster contender last ran under (RunningContender.memoryLimit). */
let inClusterMemoryLimit =
  flags['in-cluster-memory-limit'] === 'none' ? 'none (--in-cluster-memory-limit none)' : undefined;
if (!['admin', 'service-account'].includes(flags['bare-reader-as']))
  throw new Error(`--bare-reader-as: admin or service-account, not ${flags['bare-reader-as']}`);
for (const c of [...contenders, ...largeContenders])
  if (!CONTENDER_IDS.includes(c))
    throw new Error(`unknown contender ${c}; known: ${CONTENDER_IDS.join(', ')}`);
/** The contenders run at N pods. */
const contendersAt = (n: number): ContenderId[] =>
  n > 50_000 ? contenders.filter((c) => largeContenders.includes(c)) : contenders;

const log = (message: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
};
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function goBinary(): string {
  for (const dir of (process.env.PATH ?? '').split(':'))
    if (dir && existsSync(join(dir, 'go'))) return join(dir, 'go');
  if (existsSync('/usr/local/go/bin/go')) return '/usr/local/go/bin/go';
  throw new Error('Go >= 1.26 is needed for the client-go side of the benchmarks');
}

function capture(command: string, args: string[], cwd = repo): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (out += chunk));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${command} ${args.join(' ')} exited with ${code}`));
    });
  });
}

// ---- the work-queue microbenchmark ----

type CycleFigures = Omit<QueueFigures, 'bytesPerQueuedKey'>;

function medianFigures(list: CycleFigures[]): CycleFigures {
  return {
    addNsPerKey: median(list.map((f) => f.addNsPerKey)) ?? Number.NaN,
    getNsPerKey: median(list.map((f) => f.getNsPerKey)) ?? Number.NaN,
    doneNsPerKey: median(list.map((f) => f.doneNsPerKey)) ?? Number.NaN,
  };
}

async function queueBench(runs: number, seconds: number): Promise<QueueComparison> {
  log(`work queue: TypeScript, ${runs} runs`);
  const ours: QueueBenchResult[] = [];
  for (let i = 0; i < runs; i++) {
    const out = await capture(process.execPath, [
      '--expose-gc',
      join(repo, 'bench', 'queue-bench.ts'),
      '--seconds',
      String(seconds),
    ]);
    ours.push(JSON.parse(out) as QueueBenchResult);
  }
  log(`work queue: client-go, go test -bench, ${runs} runs`);
  const out = await capture(
    goBinary(),
    [
      'test',
      '-mod=readonly',
      '-run',
      '^$',
      '-bench',
      '.',
      '-benchmem',
      '-count',
      String(runs),
      '-benchtime',
      `${seconds}s`,
      './workqueue/',
    ],
    join(repo, 'bench', 'go'),
  );
  const go: Record<string, Record<string, number>[]> = {};
  for (const line of out.split('\n')) {
    const match = /^Benchmark(\w+?)(?:-\d+)?\s+\d+\s+(.*)$/.exec(line);
    if (!match?.[1] || !match[2]) continue;
    const metrics: Record<string, number> = {};
    for (const m of match[2].matchAll(/([\d.]+) (\S+)/g)) metrics[m[2] as string] = Number(m[1]);
    (go[match[1]] ??= []).push(metrics);
  }
  const goCycle = (name: string): CycleFigures =>
    medianFigures(
      (go[name] ?? []).map((m) => ({
        addNsPerKey: m['add-ns/key'] ?? Number.NaN,
        getNsPerKey: m['get-ns/key'] ?? Number.NaN,
        doneNsPerKey: m['done-ns/key'] ?? Number.NaN,
      })),
    );
  return {
    runs,
    ours: {
      queue: {
        ...medianFigures(ours.map((r) => r.queue)),
        bytesPerQueuedKey: median(ours.map((r) => r.bytesPerQueuedKey)) ?? Number.NaN,
      },
      rateLimitingQueue: medianFigures(ours.map((r) => r.rateLimitingQueue)),
    },
    clientGo: {
      queue: {
        ...goCycle('Queue'),
        bytesPerQueuedKey: median((go.QueueMemory ?? []).map((m) => m['B/key'] ?? Number.NaN)) ?? Number.NaN,
      },
      rateLimitingQueue: goCycle('RateLimitingQueue'),
    },
  };
}

// ---- the load generator, in a worker thread ----

/** A request without its id, for each kind of request. */
type LoadCall = LoadRequest extends infer R ? (R extends LoadRequest ? Omit<R, 'id'> : never) : never;

class Load {
  readonly #worker: Worker;
  #nextId = 1;
  readonly #pending = new Map<number, (res: LoadResponse) => void>();

  constructor(access: ApiServerAccess) {
    this.#worker = new Worker(new URL('./load-worker.ts', import.meta.url), { workerData: access });
    this.#worker.on('message', (res: LoadResponse) => {
      this.#pending.get(res.id)?.(res);
      this.#pending.delete(res.id);
    });
    this.#worker.on('error', (err: Error) => {
      log(`load worker failed: ${err.message}`);
    });
  }

  async call(req: LoadCall): Promise<Extract<LoadResponse, { ok: true }>> {
    const id = this.#nextId++;
    const answer = new Promise<LoadResponse>((resolve) => this.#pending.set(id, resolve));
    this.#worker.postMessage({ ...req, id });
    const res = await answer;
    if (!res.ok) throw new Error(`load ${req.op}: ${res.error}`);
    return res;
  }

  async close(): Promise<void> {
    await this.call({ op: 'close' });
    await this.#worker.terminate();
  }
}

// ---- one contender on one workload ----

async function waitUntil(
  what: string,
  contender: RunningContender,
  done: () => boolean,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (!contender.running)
      throw new Error(`${contender.spec.label} exited while waiting for ${what}:\n${contender.tail()}`);
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

/** The pods in the namespace: how many (indexes 0 to count-1) and whether they are ready. */
interface PodState {
  count: number;
  ready: boolean;
}

interface RunContext {
  load: Load;
  metrics: ApiServerMetrics;
  auditLog: string;
  apiPort: number;
  pods: PodState;
}

/** Creates pods up to `n` (those that exist are kept), as ready as the ones there. */
async function ensurePods(ctx: RunContext, n: number): Promise<{ created: number; seconds: number }> {
  const t = Date.now();
  const from = ctx.pods.count;
  if (from >= n) return { created: 0, seconds: 0 };
  await ctx.load.call({ op: 'create', from, to: n, ready: ctx.pods.ready, concurrency });
  ctx.pods.count = n;
  const seconds = (Date.now() - t) / 1000;
  log(`  ${n - from} pods created with status in ${seconds.toFixed(1)} s (${n} in all)`);
  return { created: n - from, seconds };
}

const mib = (bytes: number): number => bytes / 2 ** 20;

/** A contender on no pods: what starting costs it, before any pod. */
async function idleRun(spec: ContenderSpec, ctx: RunContext): Promise<IdleFigures> {
  const problems: string[] = [];
  const c = new RunningContender(spec, ctx.apiPort, POD_PREFIX);
  if (c.memoryLimit !== undefined) inClusterMemoryLimit = c.memoryLimit;
  let heap;
  let stats;
  try {
    if (!(await waitUntil('cache synced', c, () => c.syncedAt !== undefined, 60_000)))
      problems.push('no cache-synced line within 60 s');
    await sleep(1_000);
    heap = await c.heapAfterGc();
    stats = c.procStats();
  } catch (err) {
    problems.push((err as Error).message);
  }
  const exit = await c.stop();
  if (exit.code !== 0 && exit.signal !== 'SIGTERM')
    problems.push(`exit code ${exit.code}, signal ${exit.signal}`);
  return {
    contender: spec.id,
    cacheSyncedS: c.syncedAt !== undefined ? (c.syncedAt - c.startedAt) / 1000 : null,
    rssMiB: stats ? mib(stats.rssBytes) : Number.NaN,
    peakRssMiB: stats ? mib(stats.peakRssBytes) : Number.NaN,
    heapAfterGcMiB: heap ? mib(heap.usedHeapSize) : null,
    cpuS: stats ? stats.cpuSeconds : Number.NaN,
    problems,
  };
}

async function runOne(spec: ContenderSpec, n: number, run: number, ctx: RunContext): Promise<RunFigures> {
  const problems: string[] = [];
  // A delete phase before this run left no pods: create them again.
  await ensurePods(ctx, n);
  await sleep(2_000);

  const before = await ctx.metrics.requestTotals();
  const auditFrom = fileSize(ctx.auditLog);
  const c = new RunningContender(spec, ctx.apiPort, POD_PREFIX);
  if (c.memoryLimit !== undefined) inClusterMemoryLimit = c.memoryLimit;
  const phaseTimeout = 60_000 + n * 30;
  let cpuInitialS: number | null = null;
  let heap;
  let peakRssAtSync = Number.NaN;
  let rssAfterSync = Number.NaN;
  let burst: Timed[] = [];
  let deletes: Timed[] = [];
  let burstAuditFrom = 0;
  try {
    const synced = await waitUntil(
      'the initial sync',
      c,
      () => c.syncedAt !== undefined && (!spec.controller || c.syncedOnce >= n),
      phaseTimeout,
    );
    cpuInitialS = c.procStats().cpuSeconds;
    if (!synced)
      problems.push(
        `initial sync incomplete: ${c.syncedOnce}/${n} pods, cache synced: ${c.syncedAt !== undefined}`,
      );
    if (!spec.controller && (c.syncedEvents ?? 0) < n + 1)
      problems.push(`the reader read ${c.syncedEvents} events, fewer than ${n} pods and the bookmark`);
    await sleep(1_000);
    heap = await c.heapAfterGc();
    if (spec.heapProbe && !heap) problems.push('no answer from the heap probe');
    const atSync = c.procStats();
    peakRssAtSync = mib(atSync.peakRssBytes);
    rssAfterSync = mib(atSync.rssBytes);

    if (spec.controller && n <= burstUpTo) {
      const burstStart = nowMs();
      burstAuditFrom = fileSize(ctx.auditLog);
      c.watchSyncsSince(burstStart);
      const ready = !ctx.pods.ready;
      burst = (await ctx.load.call({ op: 'burst', n, ready, concurrency })).timed ?? [];
      ctx.pods.ready = ready;
      if (!(await waitUntil('the burst', c, () => c.syncedSince >= n, phaseTimeout)))
        problems.push(`burst incomplete: ${c.syncedSince}/${n} pods`);
      await sleep(1_000);
    }

    if (spec.controller && n <= deletesUpTo) {
      deletes = (await ctx.load.call({ op: 'delete', n, concurrency })).timed ?? [];
      ctx.pods.count = 0;
      if (!(await waitUntil('the deletes', c, () => c.deleted >= n, phaseTimeout)))
        problems.push(`deletes incomplete: ${c.deleted}/${n} pods`);
      await sleep(500);
    }
  } catch (err) {
    problems.push((err as Error).message);
  }
  c.sampleConnections();
  const stats = c.running ? c.procStats() : undefined;
  const connections = c.connections();
  const exit = await c.stop();
  // client-go's example has no SIGTERM handler: the signal's default action ends it.
  if (exit.code !== 0 && exit.signal !== 'SIGTERM')
    problems.push(`exit code ${exit.code}, signal ${exit.signal}`);
  await sleep(500);
  const after = await ctx.metrics.requestTotals();
  const audit = countAudit(ctx.auditLog, auditFrom);

  let allSyncedAt: number | undefined;
  if (spec.controller && c.pods.size >= n) {
    allSyncedAt = 0;
    for (const p of c.pods.values()) allSyncedAt = Math.max(allSyncedAt, p.syncs[0] ?? Number.NaN);
    if (Number.isNaN(allSyncedAt)) allSyncedAt = undefined;
  }
  const responded =
    burst.length > 0 ? statusPatchResponses(ctx.auditLog, burstAuditFrom) : new Map<string, number>();
  const burstLatencies: number[] = [];
  const clientLatencies: number[] = [];
  const stampLatencies: number[] = [];
  let burstEnd = 0;
  for (const u of burst) {
    const lines = c.pods.get(u.name);
    const i = lines?.syncs.findIndex((x) => x >= u.sentAt) ?? -1;
    const at = lines?.syncs[i];
    if (at === undefined) continue;
    clientLatencies.push(at - u.respondedAt);
    const serverDone = responded.get(u.name);
    if (serverDone !== undefined) {
      burstLatencies.push(at - serverDone);
      const stamp = lines?.syncStamps[i] ?? Number.NaN;
      if (!Number.isNaN(stamp)) stampLatencies.push(stamp - serverDone);
    }
    burstEnd = Math.max(burstEnd, at);
  }
  if (burst.length > 0 && responded.size < burst.length)
    problems.push(`audit log has ${responded.size} of ${burst.length} burst responses`);
  let burstStart = Number.POSITIVE_INFINITY;
  for (const u of burst) burstStart = Math.min(burstStart, u.sentAt);
  let deleteEnd = 0;
  let deleteSeen = 0;
  let deleteStart = Number.POSITIVE_INFINITY;
  for (const d of deletes) {
    deleteStart = Math.min(deleteStart, d.sentAt);
    const at = c.pods.get(d.name)?.deletes[0];
    if (at === undefined) continue;
    deleteSeen++;
    deleteEnd = Math.max(deleteEnd, at);
  }
  const agents = Object.keys(audit.byUserAgent).filter((a) => a !== LOAD_USER_AGENT);
  const byVerb: Record<string, number> = {};
  for (const agent of agents)
    for (const [verb, count] of Object.entries(audit.byUserAgent[agent] ?? {}))
      byVerb[verb] = (byVerb[verb] ?? 0) + count;
  const secs = (ms: number): number => ms / 1000;
  const all = (list: number[], p: number): number | null =>
    burst.length > 0 && list.length === n ? percentile(list, p) : null;
  return {
    contender: spec.id,
    n,
    run,
    cacheSyncedS: c.syncedAt !== undefined ? secs(c.syncedAt - c.startedAt) : null,
    allSyncedS: allSyncedAt !== undefined ? secs(allSyncedAt - c.startedAt) : null,
    readerEvents: c.syncedEvents ?? null,
    peakRssAtSyncMiB: peakRssAtSync,
    rssAfterSyncMiB: rssAfterSync,
    heapAfterGcMiB: heap ? mib(heap.usedHeapSize) : null,
    heapLimitMiB: heap ? mib(heap.heapSizeLimit) : null,
    burstS: burst.length > 0 && burstLatencies.length === burst.length ? secs(burstEnd - burstStart) : null,
    burstP50Ms: all(burstLatencies, 50),
    burstP99Ms: all(burstLatencies, 99),
    burstClientP50Ms: all(clientLatencies, 50),
    burstClientP99Ms: all(clientLatencies, 99),
    burstStampP50Ms: all(stampLatencies, 50),
    burstStampP99Ms: all(stampLatencies, 99),
    deleteS: deletes.length > 0 && deleteSeen === deletes.length ? secs(deleteEnd - deleteStart) : null,
    peakRssMiB: stats ? mib(stats.peakRssBytes) : Number.NaN,
    cpuS: stats ? stats.cpuSeconds : Number.NaN,
    cpuInitialS,
    requests: Object.values(byVerb).reduce((a, b) => a + b, 0),
    requestsByVerb: byVerb,
    userAgents: agents,
    metricsRequests: readRequestsBetween(before, after),
    connectionsPeak: connections.peak,
    connectionsOpened: connections.opened,
    exit: exit.signal ?? String(exit.code),
    problems,
  };
}

// ---- the whole run ----

function environment(start: number, startLoad: number[], samples: number[]): Environment {
  const go = (() => {
    try {
      return execFileSync(goBinary(), ['version'], { encoding: 'utf8' })
        .trim()
        .replace(/^go version /, '');
    } catch {
      return 'go: not found';
    }
  })();
  return {
    date: new Date(start).toISOString(),
    command: `make bench${process.argv.length > 2 ? ` BENCH_ARGS="${process.argv.slice(2).join(' ')}"` : ''}`,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memoryGiB: totalmem() / 2 ** 30,
    kernel: release(),
    node: process.version,
    go,
    kubernetes:
      /k8s\.io\/kubernetes\s+(v\S+)/.exec(
        readFileSync(join(repo, 'hack', 'cluster', 'k8s', 'go.mod'), 'utf8'),
      )?.[1] ?? '?',
    loadAverageStart: startLoad,
    loadAverageEnd: loadavg(),
    loadAverageSamples: samples,
    durationS: (Date.now() - start) / 1000,
    ...(inClusterMemoryLimit === undefined ? {} : { inClusterMemoryLimit }),
  };
}

function updateReadme(table: string): void {
  const path = join(repo, 'bench', 'README.md');
  const text = readFileSync(path, 'utf8');
  const start = '<!-- results:start -->';
  const end = '<!-- results:end -->';
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`${path} lacks the ${start} ... ${end} markers`);
  writeFileSync(path, `${text.slice(0, from + start.length)}\n\n${table}\n${text.slice(to)}`);
  // Aligned as `npm run lint` wants it.
  const prettier = join(repo, 'node_modules', 'prettier', 'bin', 'prettier.cjs');
  if (existsSync(prettier)) execFileSync(process.execPath, [prettier, '--write', path], { stdio: 'ignore' });
}

async function main(): Promise<void> {
  const start = Date.now();
  const startLoad = loadavg();
  const loadSamples: number[] = [];
  log(`load average ${startLoad.map((x) => x.toFixed(2)).join(' ')} on ${cpus().length} cores`);
  const result: BenchResult = {
    environment: environment(start, startLoad, loadSamples),
    sizes: flags['queue-only'] ? [] : runOrder,
    runsPerContender: Object.fromEntries(sizes.map((n) => [String(n), runsFor(n)])),
    contenders,
    burstUpTo,
    deletesUpTo,
    idle: {},
    sizeFigures: [],
    runs: [],
    medians: {},
  };
  if (!flags['skip-queue']) result.queue = await queueBench(3, Number(flags['queue-seconds']));

  if (!flags['queue-only']) {
    if (
      contenders.some((c) => c.startsWith('pod-sync-operator')) &&
      !existsSync(join(repo, 'dist', 'main.js'))
    ) {
      throw new Error('dist/main.js is missing: npm run build first (npm run bench does)');
    }
    const goExample = (await capture('bash', [join(repo, 'bench', 'go', 'build.sh')])).trim();
    const work = mkdtempSync(join(tmpdir(), 'pod-sync-bench-'));
    const audit = auditArgs(work);
    log('starting the control plane');
    const cp = await ControlPlane.start({
      extraApiServerArgs: audit.args,
      extraEtcdArgs: [`--quota-backend-bytes=${ETCD_QUOTA_BYTES}`],
    });
    const access: ApiServerAccess = { server: cp.server, token: cp.token, ca: cp.ca };
    const load = new Load(access);
    const metrics = new ApiServerMetrics(access);
    const ctx: RunContext = {
      load,
      metrics,
      auditLog: audit.logPath,
      apiPort: Number(new URL(cp.server).port),
      pods: { count: 0, ready: true },
    };
    try {
      const deployed = setUpInCluster({
        kubectl: cp.binaries.kubectl,
        kubeconfig: cp.kubeconfigPath,
        server: cp.server,
        ca: cp.ca,
        dir: join(work, 'serviceaccount'),
      });
      const memoryLimitBytes =
        memoryLimitFlag === 'none' ? undefined : (memoryLimitOverride ?? deployed.memoryLimitBytes);
      const inCluster = { ...deployed, memoryLimitBytes };
      const tokenFile = join(work, 'admin-token');
      const caFile = join(work, 'ca.crt');
      writeFileSync(tokenFile, cp.token, { mode: 0o600 });
      writeFileSync(caFile, cp.ca);
      const specs = contenderSpecs({
        kubeconfig: cp.kubeconfigPath,
        goExample,
        inCluster,
        server: cp.server,
        tokenFile: flags['bare-reader-as'] === 'service-account' ? join(inCluster.dir, 'token') : tokenFile,
        caFile,
        operatorNodeArgs: [
          ...flags['operator-node-args'].split(/\s+/).filter(Boolean),
          ...(flags['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${join(flags.out, 'profiles')}`] : []),
        ],
      });
      const owners = (await load.call({ op: 'owners' })).owners as Owner[];
      log(`${owners.length} Deployments and ReplicaSets own the pods`);
      const left = (await load.call({ op: 'clean', concurrency })).count ?? 0;
      if (left > 0) log(`removed ${left} pods left over`);
      for (const id of contenders) {
        log(`no pods: ${id}`);
        const idle = await idleRun(specs[id], ctx);
        result.idle[id] = idle;
        log(
          `  cache synced ${idle.cacheSyncedS?.toFixed(2)} s, RSS ${idle.rssMiB.toFixed(0)} MiB, heap ${idle.heapAfterGcMiB?.toFixed(1)} MiB` +
            (idle.problems.length ? `; problems: ${idle.problems.join('; ')}` : ''),
        );
      }
      for (const n of runOrder) {
        const created = await ensurePods(ctx, n);
        await sleep(2_000);
        const controlPlane = await controlPlaneFigures(cp.state.pids, cp.etcdUrl);
        const podJsonBytes = (await load.call({ op: 'pod-bytes' })).count ?? Number.NaN;
        result.sizeFigures.push({
          n,
          createS: created.seconds,
          createdPods: created.created,
          podJsonBytes,
          controlPlane,
        });
        log(
          `N=${n}: pod ${podJsonBytes} bytes of JSON; kube-apiserver RSS ${controlPlane.apiServerRssMiB.toFixed(0)} MiB, etcd RSS ${controlPlane.etcdRssMiB.toFixed(0)} MiB, ` +
            `etcd database ${controlPlane.etcdDbMiB.toFixed(0)} MiB (${controlPlane.etcdDbInUseMiB.toFixed(0)} in use)`,
        );
        const runsPerContender = runsFor(n);
        for (let run = 1; run <= runsPerContender; run++) {
          // Contenders take turns within a run, so a slow spell of the machine is shared among them.
          for (const id of contendersAt(n)) {
            loadSamples.push(loadavg()[0] ?? Number.NaN);
            log(`N=${n} run ${run}/${runsPerContender}: ${id} (load ${loadavg()[0]?.toFixed(2)})`);
            const figures = await runOne(specs[id], n, run, ctx);
            result.runs.push(figures);
            log(
              `  cache synced ${figures.cacheSyncedS?.toFixed(2)} s, all synced ${figures.allSyncedS?.toFixed(2)} s, ` +
                `heap ${figures.heapAfterGcMiB?.toFixed(1)} MiB, RSS at sync ${figures.peakRssAtSyncMiB.toFixed(0)} MiB; burst ${figures.burstS?.toFixed(2)} s ` +
                `p50 ${figures.burstP50Ms?.toFixed(1)} ms p99 ${figures.burstP99Ms?.toFixed(1)} ms, deletes ${figures.deleteS?.toFixed(2)} s, ` +
                `peak RSS ${figures.peakRssMiB.toFixed(0)} MiB, CPU ${figures.cpuS.toFixed(2)} s, ${figures.requests} requests, ` +
                `${figures.connectionsPeak} connections${figures.problems.length ? `; problems: ${figures.problems.join('; ')}` : ''}`,
            );
          }
        }
        const medians: Partial<Record<ContenderId, Medians>> = {};
        for (const id of contendersAt(n)) {
          const m = mediansOf(result.runs.filter((r) => r.n === n && r.contender === id));
          if (m) medians[id] = m;
        }
        result.medians[String(n)] = medians;
        // Results so far, in case a larger size does not finish.
        writeResults(result, start, false);
      }
      await load.call({ op: 'clean', concurrency });
      await cp.compactEtcd();
      await defragmentEtcd(cp.etcdUrl);
    } finally {
      await load.close().catch(() => undefined);
      await metrics.close();
      await cp.stop();
      rmSync(work, { recursive: true, force: true });
    }
  }

  result.environment = environment(start, startLoad, loadSamples);
  const table = writeResults(result, start, flags['update-readme']);
  process.stdout.write(`${table}\n`);
  log(`results in ${join(flags.out, `${stamp(start)}.json`)} and .md`);
}

const stamp = (start: number): string => new Date(start).toISOString().replace(/[:.]/g, '-');

/** Writes <start>.json/.md and latest.*; with `readme`, the table into bench/README.md too. */
function writeResults(result: BenchResult, start: number, readme: boolean): string {
  result.environment = environment(
    start,
    result.environment.loadAverageStart,
    result.environment.loadAverageSamples,
  );
  const table = markdown(result);
  mkdirSync(flags.out, { recursive: true });
  const json = `${JSON.stringify(result, null, 2)}\n`;
  writeFileSync(join(flags.out, `${stamp(start)}.json`), json);
  writeFileSync(join(flags.out, `${stamp(start)}.md`), `${table}\n`);
  writeFileSync(join(flags.out, 'latest.json'), json);
  writeFileSync(join(flags.out, 'latest.md'), `${table}\n`);
  if (readme) updateReadme(table);
  return table;
}

await main();
// A lingering handle (a worker, a socket) must not keep the process; writes to stdout are done.
process.exit(0);
