// The contenders, how to start each, and how to read its lines. Every line is stamped with the time it
// reached the harness (nowMs()), the one clock of every figure.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { memoryCgroup, type MemoryCgroup } from './cgroup.ts';
import type { InCluster } from './in-cluster.ts';
import { connectionsTo, procStats, type ProcStats } from './proc.ts';
import { nowMs } from './workload.ts';

export const CONTENDER_IDS = [
  'pod-sync-operator-in-cluster',
  'pod-sync-operator',
  'client-go-example',
  'client-node-baseline',
  'bare-reader',
] as const;
export type ContenderId = (typeof CONTENDER_IDS)[number];

/**
 * What a line says: the cache is synced (for the bare reader: the initial-events-end bookmark, after
 * `events` events), a pod was synced, or a pod was synced as gone. `stamp`: the time the contender
 * wrote in the line itself (pod-sync-operator's `time`, in ms), when it has one.
 */
export type LineEvent =
  | { kind: 'synced'; events?: number }
  | { kind: 'sync'; name: string; stamp?: number }
  | { kind: 'deleted'; name: string; stamp?: number };

/** What bench/heap-probe.js writes on SIGUSR2, after two full GCs: `{"benchHeap": HeapProbe}`. Bytes. */
export interface HeapProbe {
  usedHeapSize: number;
  totalHeapSize: number;
  heapSizeLimit: number;
  /** used_heap_size less the young generation. */
  oldUsed: number;
  external: number;
  arrayBuffers: number;
  rss: number;
}

export interface ContenderSpec {
  id: ContenderId;
  label: string;
  command: string;
  args: string[];
  /** Added to the harness's environment. */
  env?: Record<string, string>;
  /** Run in a memory cgroup of this limit (the Deployment's), as the kubelet would; bench/cgroup.ts. */
  memoryLimitBytes?: number;
  /** A Node process with bench/heap-probe.js loaded: SIGUSR2 reports its heap after GC. */
  heapProbe: boolean;
  /** A controller prints a line per pod synced; the bare reader only reads the initial list. */
  controller: boolean;
  parse(line: string, stream: 'stdout' | 'stderr'): LineEvent | undefined;
}

const repo = fileURLToPath(new URL('..', import.meta.url));
let cgroups = 0;
const HEAP_PROBE = ['--import', `${repo}bench/heap-probe.js`];

/** pod-sync-operator logs JSON lines: `caches synced`, then a line per pod transition (`event`, `key`). */
function parseOperatorLine(line: string): LineEvent | undefined {
  if (!line.includes('"event"') && !line.includes('caches synced')) return undefined;
  let entry: { msg?: string; event?: string; key?: string; time?: number };
  try {
    entry = JSON.parse(line) as typeof entry;
  } catch {
    return undefined;
  }
  if (entry.msg === 'caches synced') return { kind: 'synced' };
  if (!entry.event || !entry.key) return undefined;
  const name = entry.key.slice(entry.key.indexOf('/') + 1);
  const stamp = typeof entry.time === 'number' ? { stamp: entry.time } : {};
  return entry.event === 'deleted' ? { kind: 'deleted', name, ...stamp } : { kind: 'sync', name, ...stamp };
}

const SYNC_LINE = /^Sync\/Add\/Update for Pod (\S+)$/;
const GONE_LINE = /^Pod [^/\s]+\/(\S+) does not exist anymore$/;

/** client-go's example and the baseline print the same lines (fmt.Printf in syncToStdout). */
function parseExampleLine(line: string, synced: RegExp, stream: 'stdout' | 'stderr'): LineEvent | undefined {
  if (stream === 'stderr') return synced.test(line) ? { kind: 'synced' } : undefined;
  const sync = SYNC_LINE.exec(line);
  if (sync?.[1]) return { kind: 'sync', name: sync[1] };
  const gone = GONE_LINE.exec(line);
  if (gone?.[1]) return { kind: 'deleted', name: gone[1] };
  return undefined;
}

export function contenderSpecs(options: {
  kubeconfig: string;
  goExample: string;
  inCluster: InCluster;
  /** For the bare reader, which takes the API server's address and credentials as files. */
  server: string;
  tokenFile: string;
  caFile: string;
  /** Node flags for pod-sync-operator only, e.g. --cpu-prof. */
  operatorNodeArgs?: string[];
}): Record<ContenderId, ContenderSpec> {
  const operator = (args: string[]): string[] => [
    ...HEAP_PROBE,
    ...(options.operatorNodeArgs ?? []),
    `${repo}dist/main.js`,
    ...args,
  ];
  return {
    'pod-sync-operator-in-cluster': {
      id: 'pod-sync-operator-in-cluster',
      label: 'pod-sync-operator, in-cluster',
      command: process.execPath,
      // As deployed: the Deployment's arguments (leader election on) and environment (NODE_OPTIONS),
      // the service-account directory and KUBERNETES_SERVICE_HOST/PORT; no kubeconfig anywhere.
      args: operator(options.inCluster.args),
      env: options.inCluster.env,
      ...(options.inCluster.memoryLimitBytes === undefined
        ? {}
        : { memoryLimitBytes: options.inCluster.memoryLimitBytes }),
      heapProbe: true,
      controller: true,
      parse: (line) => parseOperatorLine(line),
    },
    'pod-sync-operator': {
      id: 'pod-sync-operator',
      label: 'pod-sync-operator, kubeconfig',
      command: process.execPath,
      // Default settings; leader election is off by default; the same scope as client-go's example.
      args: operator([
        '--kubeconfig',
        options.kubeconfig,
        '--namespace',
        'default',
        '--metrics-bind-address=0',
        '--health-probe-bind-address=0',
      ]),
      heapProbe: true,
      controller: true,
      parse: (line) => parseOperatorLine(line),
    },
    'client-go-example': {
      id: 'client-go-example',
      label: 'client-go example',
      command: options.goExample,
      args: ['-kubeconfig', options.kubeconfig],
      heapProbe: false,
      controller: true,
      // klog, on stderr, from cache.WaitForNamedCacheSyncWithContext.
      parse: (line, stream) => parseExampleLine(line, /Caches are synced/, stream),
    },
    'client-node-baseline': {
      id: 'client-node-baseline',
      label: 'client-node baseline',
      command: process.execPath,
      args: [...HEAP_PROBE, `${repo}bench/baseline/controller.ts`, '--kubeconfig', options.kubeconfig],
      heapProbe: true,
      controller: true,
      parse: (line, stream) => parseExampleLine(line, /^caches synced$/, stream),
    },
    'bare-reader': {
      id: 'bare-reader',
      label: 'bare reader',
      command: process.execPath,
      args: [
        ...HEAP_PROBE,
        `${repo}bench/bare-reader.js`,
        '--server',
        options.server,
        '--token-file',
        options.tokenFile,
        '--ca-file',
        options.caFile,
      ],
      heapProbe: true,
      controller: false,
      parse: (line, stream) => {
        const match = stream === 'stdout' ? /^initial-events-end (\d+)$/.exec(line) : null;
        return match ? { kind: 'synced', events: Number(match[1]) } : undefined;
      },
    },
  };
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface PodLines {
  /** When each sync line reached the harness. */
  syncs: number[];
  /** The time written in each sync line, where the contender writes one (NaN where not). */
  syncStamps: number[];
  deletes: number[];
}

/** A started contender: its lines by pod, its connections sampled, its /proc figures on demand. */
export class RunningContender {
  readonly spec: ContenderSpec;
  readonly startedAt: number;
  /** The memory limit it ran under, when its spec asked for one: `512 MiB`, or `none (why)`. */
  memoryLimit: string | undefined;
  #cgroup: MemoryCgroup | undefined;
  readonly pods = new Map<string, PodLines>();
  syncedAt: number | undefined;
  /** Events the bare reader read up to its bookmark. */
  syncedEvents: number | undefined;
  /** Pods with at least one sync line at or after `since`, kept current by watchSyncsSince(). */
  #since = Number.POSITIVE_INFINITY;
  #syncedSince = 0;
  #deleted = 0;
  readonly #child: ChildProcess;
  readonly #tail: string[] = [];
  readonly #exited: Promise<Exit>;
  #exit: Exit | undefined;
  readonly #connections = new Set<string>();
  #peakConnections = 0;
  #lastConnections = 0;
  readonly #sampler: NodeJS.Timeout;
  readonly #apiPort: number;
  readonly #podPrefix: string;
  #heapWaiter: ((probe: HeapProbe) => void) | undefined;

  constructor(spec: ContenderSpec, apiPort: number, podPrefix: string) {
    this.spec = spec;
    this.#apiPort = apiPort;
    this.#podPrefix = podPrefix;
    this.startedAt = nowMs();
    let command = { command: spec.command, args: spec.args };
    if (spec.memoryLimitBytes !== undefined) {
      const cgroup = memoryCgroup(
        `pod-sync-bench-${String(process.pid)}-${String(++cgroups)}`,
        spec.memoryLimitBytes,
      );
      if ('unavailable' in cgroup) this.memoryLimit = `none (${cgroup.unavailable})`;
      else {
        command = cgroup.wrap(spec.command, spec.args);
        this.memoryLimit = `${String(Math.round(spec.memoryLimitBytes / 2 ** 20))} MiB`;
        this.#cgroup = cgroup;
      }
    }
    this.#child = spawn(command.command, command.args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, KUBECONFIG: '', ...spec.env },
    });
    this.#exited = new Promise((resolve) => {
      this.#child.once('exit', (code, signal) => {
        this.#exit = { code, signal };
        this.#cgroup?.remove();
        resolve(this.#exit);
      });
    });
    const logDir = process.env.BENCH_LOG_DIR;
    if (logDir) {
      mkdirSync(logDir, { recursive: true });
      const log = createWriteStream(
        join(logDir, `${spec.id}-${String(process.pid)}-${String(Math.round(this.startedAt))}.log`),
      );
      this.#child.stdout?.on('data', (chunk: Buffer) => log.write(chunk));
      this.#child.stderr?.on('data', (chunk: Buffer) => log.write(chunk));
      void this.#exited.then(() => log.end());
    }
    this.#read('stdout');
    this.#read('stderr');
    this.#sampler = setInterval(() => {
      this.#sampleConnections();
    }, 250);
  }

  get pid(): number {
    const pid = this.#child.pid;
    if (pid === undefined) throw new Error(`${this.spec.label} did not start`);
    return pid;
  }

  get running(): boolean {
    return this.#exit === undefined;
  }

  /** The last lines of both streams, to explain a failure. */
  tail(): string {
    return this.#tail.join('\n');
  }

  /** Pods with at least one sync line. */
  get syncedOnce(): number {
    let n = 0;
    for (const pod of this.pods.values()) if (pod.syncs.length > 0) n++;
    return n;
  }

  get deleted(): number {
    return this.#deleted;
  }

  /** Starts counting pods synced at or after `since`. */
  watchSyncsSince(since: number): void {
    this.#since = since;
    this.#syncedSince = 0;
    for (const pod of this.pods.values()) if (pod.syncs.some((t) => t >= since)) this.#syncedSince++;
  }

  get syncedSince(): number {
    return this.#syncedSince;
  }

  connections(): { peak: number; opened: number; atEnd: number } {
    return { peak: this.#peakConnections, opened: this.#connections.size, atEnd: this.#lastConnections };
  }

  procStats(): ProcStats {
    return procStats(this.pid);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code or the signal that ended it. */
  async stop(graceMs = 10_000): Promise<Exit> {
    clearInterval(this.#sampler);
    if (!this.running) return this.#exited;
    this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), graceMs);
    try {
      return await this.#exited;
    } finally {
      clearTimeout(timer);
    }
  }

  sampleConnections(): void {
    this.#sampleConnections();
  }

  /**
   * The V8 heap after a full GC (bench/heap-probe.js answers SIGUSR2 on stderr); undefined for a
   * contender without the probe, or when no answer came within `timeoutMs`.
   */
  async heapAfterGc(timeoutMs = 60_000): Promise<HeapProbe | undefined> {
    if (!this.spec.heapProbe || !this.running) return undefined;
    const answer = new Promise<HeapProbe>((resolve) => (this.#heapWaiter = resolve));
    this.#child.kill('SIGUSR2');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => {
        resolve(undefined);
      }, timeoutMs);
    });
    try {
      return await Promise.race([answer, timeout]);
    } finally {
      clearTimeout(timer);
      this.#heapWaiter = undefined;
    }
  }

  #sampleConnections(): void {
    if (!this.running) return;
    try {
      const now = connectionsTo(this.pid, this.#apiPort);
      for (const inode of now) this.#connections.add(inode);
      this.#lastConnections = now.size;
      this.#peakConnections = Math.max(this.#peakConnections, now.size);
    } catch {
      // The process is exiting.
    }
  }

  #read(stream: 'stdout' | 'stderr'): void {
    const source = this.#child[stream];
    if (!source) return;
    let rest = '';
    source.setEncoding('utf8');
    source.on('data', (chunk: string) => {
      const at = nowMs();
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) this.#line(line, stream, at);
    });
  }

  #line(line: string, stream: 'stdout' | 'stderr', at: number): void {
    if (stream === 'stderr' && line.startsWith('{"benchHeap":')) {
      this.#heapWaiter?.((JSON.parse(line) as { benchHeap: HeapProbe }).benchHeap);
      return;
    }
    const event = this.spec.parse(line, stream);
    if (event?.kind === 'synced') {
      this.syncedAt ??= at;
      if (event.events !== undefined) this.syncedEvents ??= event.events;
      return;
    }
    if (!event?.name.startsWith(this.#podPrefix)) {
      this.#tail.push(`${stream}: ${line}`);
      if (this.#tail.length > 40) this.#tail.shift();
      return;
    }
    let pod = this.pods.get(event.name);
    if (!pod) {
      pod = { syncs: [], syncStamps: [], deletes: [] };
      this.pods.set(event.name, pod);
    }
    if (event.kind === 'sync') {
      if (at >= this.#since && !pod.syncs.some((t) => t >= this.#since)) this.#syncedSince++;
      pod.syncs.push(at);
      pod.syncStamps.push(event.stamp ?? Number.NaN);
    } else {
      if (pod.deletes.length === 0) this.#deleted++;
      pod.deletes.push(at);
    }
  }
}
