// Shared pieces of the process tests: operators that afterEach always kills, exit times, metric values,
// timed probe requests and log-line waits across several replicas.
import { CoordinationV1Api, type V1Lease } from '@kubernetes/client-node';
import { afterEach } from 'vitest';
import { adminKubeConfig } from '../helpers/cluster.ts';
import { metricsText } from '../helpers/metrics.ts';
import { parseCommandLine, type Settings } from '../../src/config/index.ts';
import { leaderElectArgs, startOperator, type OperatorProcess } from '../helpers/operator.ts';
import { eventually, metricSum, type LogLine } from '../../src/testing/index.ts';

/** Leader-election timing short enough for failover tests: 4 s lease, 3 s renew deadline, 500 ms retry. */
export const TIMING_FLAGS: readonly string[] = [
  '--leader-election-lease-duration=4s',
  '--leader-election-renew-deadline=3s',
  '--leader-election-retry-period=500ms',
];

/** The settings of a replica started with TIMING_FLAGS: its leader-election timing and Lease name. */
export const timings = settingsFor(TIMING_FLAGS);
/** The Lease the replicas hold (the --leader-election-id default). */
export const LEASE_NAME = timings.leaderElectionId;

/** leaderElectArgs with TIMING_FLAGS: one replica of a failover test. */
export function replicaArgs(namespace: string, kubeconfig?: string): string[] {
  return [...leaderElectArgs(namespace, kubeconfig), ...TIMING_FLAGS];
}

export interface Replica extends OperatorProcess {
  /** Resolves with Date.now() at the moment the process exited. */
  exitedAt: Promise<number>;
}

/** A start function for this test file; every process it started is SIGKILLed after each test. */
export function useOperators(): (args: string[], env?: NodeJS.ProcessEnv) => Replica {
  const running: Replica[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((op) => op.stop('SIGKILL')));
  });
  return (args, env = {}) => {
    const op = startOperator(args, env);
    const replica: Replica = { ...op, exitedAt: op.exited.then(() => Date.now()) };
    running.push(replica);
    return replica;
  };
}

/** The settings main.ts would run with for these flags (defaults for the rest). */
export function settingsFor(args: readonly string[]): Settings {
  const parsed = parseCommandLine([...args]);
  if (parsed.action !== 'run') throw new Error(`not a run command line: ${args.join(' ')}`);
  return parsed.settings;
}

export const isLeading = (l: LogLine): boolean => l.msg === 'became the leader: starting workers';
export const isSyncOf =
  (name: string) =>
  (l: LogLine): boolean =>
    l.event === 'added' && l.name === name;
export const syncLines = (op: OperatorProcess): LogLine[] => op.lines.filter((l) => l.event !== undefined);

/** The first of `replicas` to log a matching line, and that line; polls, so no timers are left behind. */
export async function firstToLog(
  replicas: readonly Replica[],
  match: (line: LogLine) => boolean,
  timeoutMs: number,
): Promise<{ replica: Replica; line: LogLine }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let best: { replica: Replica; line: LogLine } | undefined;
    for (const replica of replicas) {
      const line = replica.lines.find(match);
      if (line && (!best || Number(line.time) < Number(best.line.time))) best = { replica, line };
    }
    if (best) return best;
    if (Date.now() > deadline) {
      throw new Error(
        `no replica logged a matching line within ${timeoutMs} ms; last lines:\n${replicas
          .map((r) =>
            r.lines
              .slice(-5)
              .map((l) => JSON.stringify(l))
              .join('\n'),
          )
          .join('\n--\n')}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Resolves with the value, or rejects after timeoutMs saying what was awaited. */
export async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          reject(new Error(`${what}: not within ${timeoutMs} ms`));
        }, timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The replica's Lease in `namespace` once it has been renewed after a credential was revoked at
 * `revokedAt` (Date.now()): waits for the first 401 on `metricsUrl`, then for a renewal two retry
 * periods (TIMING_FLAGS) after the revocation, which only the new credential can have made.
 */
export async function renewedAfterRevocation(
  metricsUrl: string,
  namespace: string,
  revokedAt: number,
): Promise<V1Lease> {
  const leases = adminKubeConfig().makeApiClient(CoordinationV1Api);
  const read = () => leases.readNamespacedLease({ namespace, name: LEASE_NAME });
  await eventually(
    async () => metricSum(await metricsText(metricsUrl), 'rest_client_requests_total', { code: '401' }) > 0,
    15_000,
  );
  const { retryPeriodMs } = timings;
  await eventually(
    async () => new Date((await read()).spec?.renewTime ?? 0).getTime() > revokedAt + 2 * retryPeriodMs,
    15_000,
  );
  return read();
}

/** A GET with its latency; never throws (a failed request has status 0). */
export async function timedGet(url: string, timeoutMs = 5_000): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return { status: res.status, ms: performance.now() - started };
  } catch {
    return { status: 0, ms: performance.now() - started };
  }
}
